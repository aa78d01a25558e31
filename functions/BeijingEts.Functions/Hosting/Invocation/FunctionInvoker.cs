using System.Diagnostics;
using System.Globalization;

namespace BeijingEts.Functions.Hosting.Invocation;

/// <summary>
/// Runs one function from a host payload: reads the trigger data, resolves the function in its own scope,
/// and reports the outcome as the host expects. Failures are returned, not thrown, so the caller can answer non-2xx.
/// </summary>
public sealed class FunctionInvoker(IServiceScopeFactory scopes, ILogger<FunctionInvoker> logger, TimeProvider clock)
{
    public async Task<(bool Succeeded, InvocationResponse Response)> InvokeAsync(
        FunctionDescriptor function, InvocationRequest request, string invocationId, CancellationToken cancellationToken)
    {
        using var activity = EtsTelemetry.Source.StartActivity($"invoke {function.Name}", ActivityKind.Consumer);
        activity?.SetTag("faas.invocation_id", invocationId);
        activity?.SetTag("faas.trigger", function.Trigger == TriggerKind.Queue ? "pubsub" : "timer");
        using var scope = logger.BeginScope("{FunctionName} {InvocationId}", function.Name, invocationId);
        var started = clock.GetTimestamp();
        try
        {
            await using var services = scopes.CreateAsyncScope();
            var instance = services.ServiceProvider.GetRequiredService(function.Type);
            switch (instance)
            {
                case IQueueFunction queueFunction:
                    await queueFunction.RunAsync(ReadQueueMessage(request), cancellationToken);
                    break;
                case ITimerFunction timerFunction:
                    await timerFunction.RunAsync(ReadTimer(request), cancellationToken);
                    break;
                default:
                    throw new InvalidOperationException($"{function.Name} resolved to {instance.GetType().Name}, which is no function.");
            }
            EtsTelemetry.Invocations.Add(1, new("function", function.Name), new("outcome", "succeeded"));
            return (true, new InvocationResponse([], [$"{function.Name} succeeded ({invocationId})."], null));
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(error, "{FunctionName} failed ({InvocationId})", function.Name, invocationId);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            EtsTelemetry.Invocations.Add(1, new("function", function.Name), new("outcome", "failed"));
            return (false, new InvocationResponse([], [$"{function.Name} failed ({invocationId}): {error.GetType().Name}: {error.Message}"], null));
        }
        finally
        {
            EtsTelemetry.InvocationDuration.Record(clock.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("function", function.Name));
        }
    }

    private static QueueTriggerMessage ReadQueueMessage(InvocationRequest request)
    {
        if (request.Data is null || !request.Data.TryGetValue(BindingNames.QueueMessage, out var data))
        {
            throw new InvalidDataException($"The invocation has no Data.{BindingNames.QueueMessage}.");
        }
        // The host passes the message text as a JSON string; a message that is itself JSON may arrive as an object.
        var body = data.ValueKind == JsonValueKind.String ? data.GetString()! : data.GetRawText();
        var metadata = request.Metadata ?? [];
        return new QueueTriggerMessage(
            ReadString(metadata, "Id") ?? "",
            body,
            long.TryParse(ReadString(metadata, "DequeueCount"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) ? count : 1,
            DateTimeOffset.TryParse(ReadString(metadata, "InsertionTime"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var inserted) ? inserted : null);
    }

    private static TimerTriggerInfo ReadTimer(InvocationRequest request)
    {
        if (request.Data is null || !request.Data.TryGetValue(BindingNames.Timer, out var data) || data.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"The invocation has no Data.{BindingNames.Timer} object.");
        }
        var pastDue = data.TryGetProperty("IsPastDue", out var p) && p.ValueKind == JsonValueKind.True;
        DateTimeOffset? last = null;
        DateTimeOffset next = default;
        if (data.TryGetProperty("ScheduleStatus", out var status) && status.ValueKind == JsonValueKind.Object)
        {
            if (status.TryGetProperty("Last", out var l) && l.ValueKind == JsonValueKind.String) last = l.GetDateTimeOffset();
            if (status.TryGetProperty("Next", out var n) && n.ValueKind == JsonValueKind.String) next = n.GetDateTimeOffset();
        }
        return new TimerTriggerInfo(pastDue, last, next);
    }

    private static string? ReadString(Dictionary<string, JsonElement> metadata, string name) =>
        metadata.TryGetValue(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;
}
