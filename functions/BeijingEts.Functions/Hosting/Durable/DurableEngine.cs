using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using CoreDataConverter = DurableTask.Core.Serializing.JsonDataConverter;

namespace BeijingEts.Functions.Hosting.Durable;

/// <summary>
/// The Durable Task Framework, the engine under Durable Functions, in the app's own process: its Azure Storage provider
/// on the app's storage account (a task hub named after the storage prefix) and a worker that runs the orchestrators and
/// activities registered with <see cref="DurableRegistration"/>. They are written against the portable Durable Task SDK
/// and bridged onto the engine by its shim factory, as Durable Functions' isolated worker does. Started and stopped
/// with the app; with Ets:Durable:Worker=false the app only schedules and reads instances (another instance runs them).
/// </summary>
public sealed class DurableEngine(
    StorageClients storage, IEnumerable<DurableRegistration> registrations, IServiceProvider services, IConfiguration configuration, ILoggerFactory loggers)
    : IAsyncDisposable
{
    /// <summary>System.Text.Json, as the SDK's default converter: what the client sends is what orchestrators read.</summary>
    public static readonly JsonSerializerOptions Json = new() { IncludeFields = true };

    private AzureStorageOrchestrationService? _service;
    private readonly Lock _gate = new();
    private Task<TaskHubClient>? _hub;
    private TaskHubWorker? _worker;

    /// <summary>
    /// The client of the task hub, which is created on first use (an app that runs no worker and starts no instance
    /// never touches it); a failed creation is tried again on the next call.
    /// </summary>
    public Task<TaskHubClient> ClientAsync()
    {
        lock (_gate)
        {
            if (_hub is null || _hub.IsFaulted || _hub.IsCanceled) _hub = CreateHubAsync();
            return _hub;
        }
    }

    private async Task<TaskHubClient> CreateHubAsync()
    {
        var service = new AzureStorageOrchestrationService(Settings());
        await service.CreateIfNotExistsAsync();
        _service = service;
        return new TaskHubClient(service, new SystemTextJsonConverter(), loggers);
    }

    /// <summary>The task hub's name: letters and digits only, from the storage prefix, so each test class has its own.</summary>
    public static string HubName(string prefix) => new string([.. prefix.Where(char.IsAsciiLetterOrDigit)]) + "EtsHub";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!configuration.GetValue("Ets:Durable:Worker", true)) return;
        await ClientAsync();
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = new Microsoft.DurableTask.Converters.JsonDataConverter(Json) }, loggers);
        var orchestrations = new Creators<TaskOrchestration>();
        var activities = new Creators<TaskActivity>();
        foreach (var registration in registrations)
        {
            if (registration.IsOrchestrator) orchestrations.Add(new Creator<TaskOrchestration>(registration.Name, () => shims.CreateOrchestration(registration.Name, registration.Create<ITaskOrchestrator>(services))));
            else activities.Add(new Creator<TaskActivity>(registration.Name, () => shims.CreateActivity(registration.Name, registration.Create<ITaskActivity>(services))));
        }
        _worker = new TaskHubWorker(_service!, orchestrations, activities, loggers);
        await _worker.StartAsync();
    }

    private AzureStorageOrchestrationServiceSettings Settings()
    {
        var section = configuration.GetSection("Ets:Durable");
        return new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = HubName(storage.Names.Prefix),
            StorageAccountClientProvider = storage.DurableTaskProvider(),
            // Several app instances can share a machine or a process (tests, the benchmark); each must own its partitions.
            WorkerId = $"{Environment.MachineName}-{Guid.NewGuid():N}",
            PartitionCount = section.GetValue("PartitionCount", 4),
            MaxQueuePollingInterval = section.GetValue("MaxQueuePollingInterval", TimeSpan.FromSeconds(1)),
            ControlQueueBatchSize = 32,
            MaxConcurrentTaskActivityWorkItems = section.GetValue("MaxConcurrentActivities", 16),
            ExtendedSessionsEnabled = true,
            ExtendedSessionIdleTimeout = TimeSpan.FromSeconds(10),
            // How soon work that a stopped or killed instance had taken runs elsewhere: its messages reappear after their
            // visibility timeout, its partitions move when their leases run out (at once when it stopped cleanly).
            WorkItemQueueVisibilityTimeout = section.GetValue("WorkItemVisibilityTimeout", TimeSpan.FromMinutes(5)),
            ControlQueueVisibilityTimeout = section.GetValue("ControlVisibilityTimeout", TimeSpan.FromMinutes(5)),
            LeaseInterval = section.GetValue("LeaseInterval", TimeSpan.FromSeconds(30)),
            LeaseRenewInterval = section.GetValue("LeaseRenewInterval", TimeSpan.FromSeconds(10)),
            LeaseAcquireInterval = section.GetValue("LeaseAcquireInterval", TimeSpan.FromSeconds(10)),
            LoggerFactory = loggers,
        };
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Unless the host is out of time, work in flight finishes and is recorded first. Work cut off runs again: its
        // messages come back after their visibility timeout.
        if (_worker is not null) await _worker.StopAsync(isForced: cancellationToken.IsCancellationRequested);
        _worker = null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_worker is not null) await _worker.StopAsync(isForced: true);
        _worker?.Dispose();
        _service?.Dispose();
    }

    /// <summary>The orchestrations or activities by name; every version is the empty one.</summary>
    private sealed class Creators<T> : INameVersionObjectManager<T> where T : class
    {
        private readonly Dictionary<string, ObjectCreator<T>> _byName = new(StringComparer.Ordinal);

        public void Add(ObjectCreator<T> creator) => _byName.Add(creator.Name, creator);

        public T? GetObject(string name, string? version) => _byName.TryGetValue(name, out var creator) ? creator.Create() : null;
    }

    /// <summary>Registered with the engine's empty version, as Durable Functions does.</summary>
    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public Creator(string name, Func<T> create)
        {
            Name = name;
            Version = "";
            _create = create;
        }

        public override T Create() => _create();
    }

    /// <summary>The client's side of the SDK's converter: instance inputs and event payloads as System.Text.Json.</summary>
    private sealed class SystemTextJsonConverter : CoreDataConverter
    {
        public override string Serialize(object value) => JsonSerializer.Serialize(value, Json);

        public override string Serialize(object value, bool formatted) => Serialize(value);

        public override object Deserialize(string data, Type objectType) => JsonSerializer.Deserialize(data, objectType, Json)!;
    }
}

/// <summary>Starts the engine after storage is ready (it is registered after the storage initializer) and stops it with the app.</summary>
public sealed class DurableEngineHost(DurableEngine engine) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => engine.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync(cancellationToken);
}

/// <summary>An orchestrator or activity the engine runs, by its class name; a new instance per execution, from the app's services.</summary>
public sealed record DurableRegistration(Type Type, bool IsOrchestrator)
{
    public string Name => Type.Name;

    public T Create<T>(IServiceProvider services) => (T)ActivatorUtilities.CreateInstance(services, Type);
}

public static class DurableServiceCollectionExtensions
{
    /// <summary>The engine, hosted with the app; its client is a service too.</summary>
    public static IServiceCollection AddDurableEngine(this IServiceCollection services)
    {
        services.AddSingleton<DurableEngine>();
        services.AddHostedService<DurableEngineHost>();
        return services;
    }

    public static IServiceCollection AddOrchestrator<T>(this IServiceCollection services) where T : class, ITaskOrchestrator =>
        services.AddSingleton(new DurableRegistration(typeof(T), IsOrchestrator: true));

    public static IServiceCollection AddActivity<T>(this IServiceCollection services) where T : class, ITaskActivity =>
        services.AddSingleton(new DurableRegistration(typeof(T), IsOrchestrator: false));
}
