namespace BeijingEts.Functions.Hosting;

/// <summary>Marks a queue function and names the queue (logical name, without any test prefix) it listens on.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class QueueTriggerAttribute(string queueName) : Attribute
{
    public string QueueName { get; } = queueName;
}

/// <summary>Marks a timer function with its NCRONTAB schedule: six fields, seconds first, UTC, as Azure Functions reads it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class TimerTriggerAttribute(string schedule) : Attribute
{
    public string Schedule { get; } = schedule;
}

/// <summary>A function fed by one queue message at a time. Throwing fails the message, which is retried, then poisoned.</summary>
public interface IQueueFunction
{
    Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken);
}

/// <summary>A function that runs on its schedule. Throwing is logged; the next occurrence still runs.</summary>
public interface ITimerFunction
{
    Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken);
}

/// <summary>An HTTP function: one endpoint under /api. Map registers it on the /api group.</summary>
public interface IHttpFunction
{
    static abstract void Map(IEndpointRouteBuilder api);
}

public sealed record QueueTriggerMessage(string Id, string Body, long DequeueCount, DateTimeOffset? InsertedOn)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public T Read<T>() =>
        JsonSerializer.Deserialize<T>(Body, Options) ?? throw new JsonException($"Message {Id} holds JSON null.");
}

public sealed record TimerTriggerInfo(bool IsPastDue, DateTimeOffset? Last, DateTimeOffset Next);
