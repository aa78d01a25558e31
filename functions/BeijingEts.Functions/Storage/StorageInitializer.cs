namespace BeijingEts.Functions.Storage;

/// <summary>Creates every table, queue (with its -poison twin) and container before the app takes requests.</summary>
public sealed class StorageInitializer(StorageClients storage, FunctionCatalog catalog, ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var work = new List<Task>();
        work.AddRange(StorageNames.Tables.All.Select(t => storage.Table(t).CreateIfNotExistsAsync(cancellationToken)));
        work.AddRange(StorageNames.Containers.All.Select(c => storage.Container(c).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        work.AddRange(Queues(catalog).SelectMany(q => new[] { q, StorageNames.Queues.Poison(q) })
            .Select(q => storage.Queue(q).CreateIfNotExistsAsync(cancellationToken: cancellationToken)));
        try
        {
            await Task.WhenAll(work);
            await Portal.UploadsCors.AllowBrowserUploadsLocallyAsync(storage.Blobs, cancellationToken); // the portal uploads from the browser
        }
        catch (Exception error) when (error is RequestFailedException or AggregateException or HttpRequestException)
        {
            throw new StorageUnreachableException(storage.Blobs.Uri, error);
        }
        logger.LogInformation("Storage ready at {BlobEndpoint} (prefix '{Prefix}')", storage.Blobs.Uri, storage.Names.Prefix);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The queues the app uses (each also has a -poison twin): every queue trigger's, and the one blob events go to.</summary>
    public static IReadOnlyList<string> Queues(FunctionCatalog catalog) =>
        catalog.Functions.Where(f => f.QueueName is not null).Select(f => f.QueueName!)
            .Append(StorageNames.Queues.UploadEvents).Distinct().ToList();
}

public sealed class StorageUnreachableException(Uri endpoint, Exception inner)
    : Exception($"Storage at {endpoint} is unreachable ({RootCause(inner)}). Start Azurite (./scripts/run.sh does) or set AzureWebJobsStorage to a reachable account.", inner)
{
    private static string RootCause(Exception error)
    {
        var inner = error;
        while (inner is not null)
        {
            error = inner;
            inner = error is AggregateException aggregate ? aggregate.InnerExceptions.FirstOrDefault() : error.InnerException;
        }
        return error.Message.Split('\n')[0].Trim();
    }
}
