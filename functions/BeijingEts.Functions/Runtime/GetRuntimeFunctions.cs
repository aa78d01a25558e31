using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Hosting.Local;

namespace BeijingEts.Functions.Runtime;

/// <summary>
/// GET /api/runtime/functions (regulator): every queue and timer function, with its queue's and poison queue's
/// approximate depth, and each timer's last and next occurrence: what an operator checks when work seems stuck.
/// </summary>
public sealed class GetRuntimeFunctions : IHttpFunction
{
    public sealed record FunctionState(string Name, string Trigger, string? Queue, long? Pending, long? Poisoned, string? Schedule, DateTimeOffset? Last, DateTimeOffset? Next);

    public sealed record RuntimeState(string Mode, IReadOnlyList<FunctionState> Functions);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/runtime/functions", HandleAsync).WithTags("Runtime");

    private static async Task<Ok<RuntimeState>> HandleAsync(FunctionCatalog catalog, StorageClients storage, TimerStatusStore timers, RuntimeMode mode, CancellationToken cancellationToken)
    {
        var states = new List<FunctionState>();
        foreach (var function in catalog.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (function.Trigger == TriggerKind.Queue)
            {
                var pending = await storage.Queue(function.QueueName!).GetPropertiesAsync(cancellationToken);
                var poisoned = await storage.Queue(StorageNames.Queues.Poison(function.QueueName!)).GetPropertiesAsync(cancellationToken);
                states.Add(new FunctionState(function.Name, "queue", function.QueueName, pending.Value.ApproximateMessagesCount, poisoned.Value.ApproximateMessagesCount, null, null, null));
            }
            else
            {
                var status = await timers.GetAsync(function.Name, cancellationToken);
                states.Add(new FunctionState(function.Name, "timer", null, null, null, function.Schedule, status?.Last, status?.Next));
            }
        }
        return TypedResults.Ok(new RuntimeState(mode.IsCustomHandler ? "custom-handler" : "local", states));
    }
}
