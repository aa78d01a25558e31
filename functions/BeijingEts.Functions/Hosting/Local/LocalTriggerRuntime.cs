namespace BeijingEts.Functions.Hosting.Local;

/// <summary>
/// The trigger runtime used when there is no Functions host: one listener per queue function, one scheduler per
/// timer function, and the blob-arrival scanner. It starts once the server listens, since every invocation goes
/// through the server's invocation endpoints. A function is switched off with the Functions app setting
/// AzureWebJobs.{Name}.Disabled=true.
/// </summary>
public sealed class LocalTriggerRuntime(
    FunctionCatalog catalog,
    HostSettings hostSettings,
    StorageClients storage,
    LocalInvoker invoker,
    TimerStatusStore timerStatus,
    BlobArrivalScanner scanner,
    TimeProvider clock,
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopToken)
    {
        // Stop taking work as soon as shutdown begins, while the server still answers the invocations in flight.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stopToken, lifetime.ApplicationStopping);
        var stoppingToken = stopping.Token;
        await WhenStartedAsync(stoppingToken);
        var logger = loggers.CreateLogger<LocalTriggerRuntime>();
        var loops = new List<Task>();
        foreach (var function in catalog.Functions.Where(f => !IsDisabled(f.Name)))
        {
            var functionLogger = loggers.CreateLogger($"Function.{function.Name}");
            loops.Add(function.Trigger switch
            {
                TriggerKind.Queue => new QueueListener(
                    function,
                    storage.Queue(function.QueueName!),
                    storage.Queue(StorageNames.Queues.Poison(function.QueueName!)),
                    hostSettings.Queues,
                    invoker,
                    functionLogger,
                    configuration.GetValue("Ets:FaultInjection:DeliverTwice", false)).RunAsync(stoppingToken),
                TriggerKind.Timer => new TimerScheduler(function, timerStatus, invoker, clock, functionLogger).RunAsync(stoppingToken),
                _ => throw new InvalidOperationException($"Unknown trigger {function.Trigger}."),
            });
            logger.LogInformation("Local runtime: {FunctionName} on {Trigger} {Source}", function.Name, function.Trigger, function.QueueName ?? function.Schedule);
        }
        if (!configuration.GetValue("Ets:BlobScanDisabled", false))
        {
            loops.Add(scanner.RunAsync(stoppingToken));
        }
        await Task.WhenAll(loops);
    }

    private bool IsDisabled(string functionName) => configuration.GetValue($"AzureWebJobs.{functionName}.Disabled", false)
        || configuration.GetValue($"AzureWebJobs:{functionName}:Disabled", false);

    private Task WhenStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        return started.Task;
    }
}
