using System.Reflection;
using Cronos;

namespace BeijingEts.Functions.Hosting;

public enum TriggerKind
{
    Queue,
    Timer,
}

/// <summary>One queue or timer function: its name (the class name), its trigger and what the trigger names.</summary>
public sealed record FunctionDescriptor(string Name, Type Type, TriggerKind Trigger, string? QueueName, string? Schedule)
{
    public CronExpression ParseSchedule() =>
        CronExpression.Parse(Schedule ?? throw new InvalidOperationException($"{Name} is not a timer function."), CronFormat.IncludeSeconds);
}

/// <summary>
/// Every queue and timer function the app has. The same catalog feeds the invocation endpoints, the local
/// trigger runtime and the function.json files written at publish time, so they cannot disagree.
/// </summary>
public sealed class FunctionCatalog
{
    public const string HttpFunctionName = "Api";

    private readonly Dictionary<string, FunctionDescriptor> _byName;

    public FunctionCatalog(IEnumerable<FunctionDescriptor> functions)
    {
        _byName = new Dictionary<string, FunctionDescriptor>(StringComparer.OrdinalIgnoreCase);
        foreach (var function in functions)
        {
            if (!_byName.TryAdd(function.Name, function))
            {
                throw new InvalidOperationException($"Two functions are named {function.Name}; function names must be unique.");
            }
        }
    }

    public IReadOnlyCollection<FunctionDescriptor> Functions => _byName.Values;

    public FunctionDescriptor? Find(string name) => _byName.GetValueOrDefault(name);

    public static FunctionCatalog Discover(params Assembly[] assemblies) =>
        new(assemblies.SelectMany(a => a.GetTypes()).Where(t => t is { IsAbstract: false, IsClass: true }).Select(Describe).OfType<FunctionDescriptor>());

    /// <summary>Describes a function class from its trigger attribute; null for a type that is no queue or timer function.</summary>
    public static FunctionDescriptor? Describe(Type type)
    {
        var queue = type.GetCustomAttribute<QueueTriggerAttribute>();
        var timer = type.GetCustomAttribute<TimerTriggerAttribute>();
        if (queue is not null && typeof(IQueueFunction).IsAssignableFrom(type))
        {
            return new FunctionDescriptor(type.Name, type, TriggerKind.Queue, queue.QueueName, null);
        }
        if (timer is not null && typeof(ITimerFunction).IsAssignableFrom(type))
        {
            var descriptor = new FunctionDescriptor(type.Name, type, TriggerKind.Timer, null, timer.Schedule);
            descriptor.ParseSchedule(); // a bad schedule fails at start-up, not at the first tick
            return descriptor;
        }
        if (queue is not null || timer is not null)
        {
            throw new InvalidOperationException($"{type.Name} has a trigger attribute but does not implement the matching function interface.");
        }
        return null;
    }
}
