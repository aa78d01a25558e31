using System.Diagnostics;

namespace BeijingEts.Functions.Health;

/// <summary>
/// GET /api/health (no token): whether Table, Blob and Queue storage answer. 200 when all do, else 503. Anyone may ask,
/// so an unreachable store is named with a generic reason; the storage error itself (addresses, account, request ids)
/// goes to the log only.
/// </summary>
public sealed class CheckHealth : IHttpFunction
{
    public sealed record Check(bool Reachable, long Milliseconds, string? Error);

    public sealed record Report(string Status, IReadOnlyDictionary<string, Check> Checks);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/health", HandleAsync).WithTags("Health");

    private static async Task<IResult> HandleAsync(StorageClients storage, ILogger<CheckHealth> log, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var table = ProbeAsync("table", () => storage.Table(StorageNames.Tables.Audit).QueryAsync<TableEntity>(maxPerPage: 1, cancellationToken: timeout.Token).AsPages().GetAsyncEnumerator(timeout.Token).MoveNextAsync().AsTask(), log);
        var blob = ProbeAsync("blob", () => storage.Container(StorageNames.Containers.Uploads).ExistsAsync(timeout.Token), log);
        var queue = ProbeAsync("queue", () => storage.Queue(StorageNames.Queues.UploadEvents).ExistsAsync(timeout.Token), log);
        var checks = new Dictionary<string, Check> { ["table"] = await table, ["blob"] = await blob, ["queue"] = await queue };
        var healthy = checks.Values.All(c => c.Reachable);
        return Results.Json(new Report(healthy ? "healthy" : "unhealthy", checks), statusCode: healthy ? 200 : 503);
    }

    private static async Task<Check> ProbeAsync(string store, Func<Task> probe, ILogger log)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await probe();
            return new Check(true, watch.ElapsedMilliseconds, null);
        }
        catch (Exception error) when (error is RequestFailedException or HttpRequestException or OperationCanceledException or AggregateException)
        {
            log.LogError(error, "Health check: {Store} storage did not answer", store);
            var reason = error switch
            {
                OperationCanceledException => $"{store} storage did not answer within {Timeout.TotalSeconds:0} s",
                RequestFailedException { Status: > 0 } => $"{store} storage answered with an error",
                _ => $"{store} storage could not be reached",
            };
            return new Check(false, watch.ElapsedMilliseconds, reason);
        }
    }
}
