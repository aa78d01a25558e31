using Azure.Storage.Blobs.Models;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// Lets the portal's pages PUT to the signed upload links from the browser: a CORS rule on the blob service. Only on a
/// loopback blob endpoint (Azurite: run.sh, the tests), where the portal's origin has whatever port the app got and one
/// Azurite serves every app at once, so the rule allows any origin: the signed link is the permission, CORS only lets a
/// page send it. In Azure, infra/ sets the rule for the portal's own origin.
/// </summary>
public static class UploadsCors
{
    /// <summary>What a page's PUT to a signed link needs (infra/ allows the same for the portal's origin; a test compares them).</summary>
    public const string Methods = "PUT,OPTIONS";

    public const string Headers = "content-type,x-ms-blob-type,x-ms-version,x-ms-client-request-id";

    public static async Task AllowBrowserUploadsLocallyAsync(BlobServiceClient blobs, CancellationToken cancellationToken)
    {
        if (!blobs.Uri.IsLoopback) return;
        var properties = (await blobs.GetPropertiesAsync(cancellationToken)).Value;
        var rules = properties.Cors?.ToList() ?? [];
        if (rules.Any(r => r.AllowedOrigins == "*" && r.AllowedMethods.Split(',').Contains("PUT") && r.AllowedHeaders == Headers)) return;
        rules.RemoveAll(r => r.AllowedOrigins == "*");
        rules.Add(new BlobCorsRule { AllowedOrigins = "*", AllowedMethods = Methods, AllowedHeaders = Headers, ExposedHeaders = "x-ms-request-id", MaxAgeInSeconds = 600 });
        properties.Cors = rules;
        // Every app on this Azurite writes the same rule, so apps starting together cannot undo each other's.
        await blobs.SetPropertiesAsync(properties, cancellationToken);
    }
}
