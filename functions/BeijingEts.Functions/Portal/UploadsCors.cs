using Azure.Storage.Blobs.Models;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// Lets the portal's pages PUT to the signed upload links: a CORS rule on the blob service for the origins the app
/// serves the portal from. Locally only (run.sh, tests), once the app knows its port; in Azure infra/ sets the rule
/// for the portal's static site. Merged into the rules already there, since one Azurite serves every test class.
/// </summary>
public sealed class UploadsCors(StorageClients storage, IServer server, IHostApplicationLifetime lifetime, ILogger<UploadsCors> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = AllowAsync());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task AllowAsync()
    {
        try
        {
            var origins = (server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
                .Where(a => a.StartsWith("http://", StringComparison.Ordinal) && Uri.TryCreate(a, UriKind.Absolute, out _))
                .Select(a => new Uri(a)).SelectMany(u => new[] { $"http://127.0.0.1:{u.Port}", $"http://localhost:{u.Port}" }).Distinct().ToList();
            if (origins.Count == 0) return;
            await AllowOriginsAsync(storage.Blobs, origins, lifetime.ApplicationStopping);
            logger.LogInformation("Blob CORS allows browser uploads from {Origins}", string.Join(", ", origins));
        }
        catch (RequestFailedException error)
        {
            logger.LogWarning(error, "Could not set the blob service's CORS rule; the portal's uploads will be refused by the browser.");
        }
    }

    public static async Task AllowOriginsAsync(BlobServiceClient blobs, IReadOnlyList<string> origins, CancellationToken cancellationToken)
    {
        var properties = (await blobs.GetPropertiesAsync(cancellationToken)).Value;
        var rules = properties.Cors?.ToList() ?? [];
        if (rules.Any(r => origins.All(o => r.AllowedOrigins.Split(',').Contains(o)))) return;
        rules.Add(new BlobCorsRule
        {
            AllowedOrigins = string.Join(",", origins),
            AllowedMethods = "PUT,OPTIONS",
            AllowedHeaders = "content-type,x-ms-blob-type,x-ms-version,x-ms-client-request-id",
            ExposedHeaders = "x-ms-request-id",
            MaxAgeInSeconds = 600,
        });
        // The service keeps at most five rules: the newest apps' origins win.
        properties.Cors = rules.TakeLast(5).ToList();
        await blobs.SetPropertiesAsync(properties, cancellationToken);
    }
}
