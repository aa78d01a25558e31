using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace BeijingEts.Functions.Uploads;

/// <summary>How long signed links live, and how large an upload may be.</summary>
public sealed record UploadSettings(TimeSpan LinkLifetime, TimeSpan DownloadLinkLifetime, long MaxAttachmentBytes)
{
    /// <summary>The longest a user-delegation SAS can live: Azure signs none for longer.</summary>
    public static readonly TimeSpan UserDelegationMaximum = TimeSpan.FromDays(7);

    public static UploadSettings From(IConfiguration configuration)
    {
        var settings = new UploadSettings(
            configuration.GetValue("Ets:Uploads:LinkLifetime", TimeSpan.FromDays(14)),
            configuration.GetValue("Ets:Uploads:DownloadLinkLifetime", TimeSpan.FromMinutes(15)),
            configuration.GetValue("Ets:Uploads:MaxAttachmentBytes", 50L * 1024 * 1024));
        return settings.LinkLifetime > TimeSpan.Zero && settings.DownloadLinkLifetime > TimeSpan.Zero && settings.MaxAttachmentBytes > 0
            ? settings
            : throw new InvalidOperationException("Ets:Uploads:LinkLifetime, DownloadLinkLifetime and MaxAttachmentBytes must be positive.");
    }
}

/// <summary>A signed link and when it stops working.</summary>
public sealed record SignedLink(Uri Url, DateTimeOffset ExpiresAt);

/// <summary>
/// Signs links to single blobs in the uploads container: create-only links for whoever uploads (a verification body
/// has no account, its link is its only access) and short read-only links for whoever may download. A create-only
/// link writes one new blob at one path and nothing else: it cannot read, list, delete or overwrite, so it is spent
/// once used. With an account key (Azurite) the links are service SAS; with a managed identity (Azure) they are
/// user-delegation SAS, which Azure caps at 7 days.
/// </summary>
public sealed class UploadLinks(StorageClients storage, UploadSettings settings, TimeProvider clock)
{
    public BlobContainerClient Container => storage.Container(StorageNames.Containers.Uploads);

    /// <summary>A link that creates the blob at this path, once, until it expires.</summary>
    public Task<SignedLink> ForUploadAsync(string blobName, CancellationToken cancellationToken) =>
        SignAsync(blobName, BlobSasPermissions.Create, settings.LinkLifetime, cancellationToken);

    /// <summary>A short-lived link that reads the blob at this path.</summary>
    public Task<SignedLink> ForDownloadAsync(string blobName, CancellationToken cancellationToken) =>
        SignAsync(blobName, BlobSasPermissions.Read, settings.DownloadLinkLifetime, cancellationToken);

    private async Task<SignedLink> SignAsync(string blobName, BlobSasPermissions permissions, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var blob = Container.GetBlobClient(blobName);
        if (storage.UsesIdentity && lifetime > UploadSettings.UserDelegationMaximum) lifetime = UploadSettings.UserDelegationMaximum;
        var expiresAt = TruncateToSecond(clock.GetUtcNow() + lifetime);
        var sas = new BlobSasBuilder(permissions, expiresAt)
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            Protocol = blob.Uri.Scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        if (blob.CanGenerateSasUri) return new SignedLink(blob.GenerateSasUri(sas), expiresAt);

        UserDelegationKey key = await storage.Blobs.GetUserDelegationKeyAsync(null, expiresAt, cancellationToken);
        var uri = new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, storage.Blobs.AccountName) }.ToUri();
        return new SignedLink(uri, expiresAt);
    }

    private static DateTimeOffset TruncateToSecond(DateTimeOffset time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerSecond, time.Offset);
}
