using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace BeijingEts.Functions.Uploads;

/// <summary>How long signed links live, and how large an upload may be.</summary>
public sealed record UploadSettings(TimeSpan LinkLifetime, TimeSpan DownloadLinkLifetime, long MaxAttachmentBytes)
{
    /// <summary>The longest an upload link may live: a leaked link is good for a day at most.</summary>
    public static readonly TimeSpan MaximumLinkLifetime = TimeSpan.FromHours(24);

    public static UploadSettings From(IConfiguration configuration)
    {
        var settings = new UploadSettings(
            configuration.GetValue("Ets:Uploads:LinkLifetime", MaximumLinkLifetime),
            configuration.GetValue("Ets:Uploads:DownloadLinkLifetime", TimeSpan.FromMinutes(15)),
            configuration.GetValue("Ets:Uploads:MaxAttachmentBytes", 50L * 1024 * 1024));
        return settings.LinkLifetime > TimeSpan.Zero && settings.LinkLifetime <= MaximumLinkLifetime && settings.DownloadLinkLifetime > TimeSpan.Zero
            && settings.DownloadLinkLifetime <= MaximumLinkLifetime && settings.MaxAttachmentBytes > 0
            ? settings
            : throw new InvalidOperationException("Ets:Uploads:LinkLifetime and DownloadLinkLifetime must be positive and at most 24 hours, MaxAttachmentBytes positive.");
    }
}

/// <summary>A signed link and when it stops working.</summary>
public sealed record SignedLink(Uri Url, DateTimeOffset ExpiresAt);

/// <summary>
/// Signs links to single blobs: create-only links into the staging container for whoever uploads (a verification
/// body's link is its only access to storage) and short read-only links into the write-once uploads container for
/// whoever may download. A create-only link writes one new blob at one path and nothing else: it cannot read, list,
/// delete or overwrite, so it is spent once used, and it lives at most 24 hours. With an account key (Azurite) the
/// links are service SAS; with a managed identity (Azure) they are user-delegation SAS.
/// </summary>
public sealed class UploadLinks(StorageClients storage, UploadSettings settings, TimeProvider clock)
{
    /// <summary>Where accepted uploads are kept, write-once; download links read from here.</summary>
    public BlobContainerClient Container => storage.Container(StorageNames.Containers.Uploads);

    /// <summary>Where upload links write; nothing here is kept.</summary>
    public BlobContainerClient Staging => storage.Container(StorageNames.Containers.Staging);

    /// <summary>A link that creates the blob at this path in staging, once, until it expires.</summary>
    public Task<SignedLink> ForUploadAsync(string blobName, CancellationToken cancellationToken) =>
        SignAsync(Staging.GetBlobClient(blobName), BlobSasPermissions.Create, settings.LinkLifetime, cancellationToken);

    /// <summary>A short-lived link that reads the kept blob at this path.</summary>
    public Task<SignedLink> ForDownloadAsync(string blobName, CancellationToken cancellationToken) =>
        SignAsync(Container.GetBlobClient(blobName), BlobSasPermissions.Read, settings.DownloadLinkLifetime, cancellationToken);

    private async Task<SignedLink> SignAsync(BlobClient blob, BlobSasPermissions permissions, TimeSpan lifetime, CancellationToken cancellationToken)
    {
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
