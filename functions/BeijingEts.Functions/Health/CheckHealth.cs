using System.Diagnostics;

namespace BeijingEts.Functions.Health;

/// <summary>GET /api/health (no token): whether Table, Blob and Queue storage answer. 200 when all do, else 503.</summary>
public sealed class CheckHealth : IHttpFunction
{
    public sealed record Check(bool Reachable, long Milliseconds, string? Error);

    public sealed record Report(string Status, IReadOnlyDictionary<string, Check> Checks);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/health", HandleAsync).WithTags("Health");

    private static async Task<IResult> HandleAsync(StorageClients storage, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var table = ProbeAsync(() => storage.Table(StorageNames.Tables.Audit).QueryAsync<TableEntity>(maxPerPage: 1, cancellationToken: timeout.Token).AsPages().GetAsyncEnumerator(timeout.Token).MoveNextAsync().AsTask());
        var blob = ProbeAsync(() => storage.Container(StorageNames.Containers.Uploads).ExistsAsync(timeout.Token));
        var queue = ProbeAsync(() => storage.Queue(StorageNames.Queues.UploadEvents).ExistsAsync(timeout.Token));
        var checks = new Dictionary<string, Check> { ["table"] = await table, ["blob"] = await blob, ["queue"] = await queue };
        var healthy = checks.Values.All(c => c.Reachable);
        return Results.Json(new Report(healthy ? "healthy" : "unhealthy", checks), statusCode: healthy ? 200 : 503);
    }

    private static async Task<Check> ProbeAsync(Func<Task> probe)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await probe();
            return new Check(true, watch.ElapsedMilliseconds, null);
        }
        catch (Exception error) when (error is RequestFailedException or HttpRequestException or OperationCanceledException or AggregateException)
        {
            return new Check(false, watch.ElapsedMilliseconds, error.Message.Split('\n')[0].Trim());
        }
    }
}
