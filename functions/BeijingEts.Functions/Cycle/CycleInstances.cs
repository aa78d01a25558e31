using BeijingEts.Functions.Hosting.Durable;
using DurableTask.Core;
using DurableTask.Core.Exceptions;

namespace BeijingEts.Functions.Cycle;

/// <summary>The regulator's handle on the years' orchestration instances: start (once), wake, suspend, resume, and where each stands.</summary>
public sealed class CycleInstances(DurableEngine durable, IConfiguration configuration)
{
    public static string InstanceId(int year) => $"cycle-{year}";

    private static OrchestrationInstance Instance(int year) => new() { InstanceId = InstanceId(year) };

    /// <summary>Starts the year's instance unless it already runs (a second start, or a start after a crash between the state and the instance).</summary>
    public async Task EnsureStartedAsync(int year)
    {
        var client = await durable.ClientAsync();
        var existing = await client.GetOrchestrationStateAsync(InstanceId(year));
        if (existing is not null && existing.OrchestrationStatus is not (OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled)) return;
        var run = new CycleRun(year, configuration.GetValue("Ets:Cycle:MaxWaitSeconds", 300.0), configuration.GetValue("Ets:FaultInjection:DeliverTwice", false));
        try
        {
            await client.CreateOrchestrationInstanceAsync(nameof(YearlyCycle), "", InstanceId(year), run, tags: null,
                dedupeStatuses: [OrchestrationStatus.Pending, OrchestrationStatus.Running, OrchestrationStatus.Suspended, OrchestrationStatus.Completed, OrchestrationStatus.ContinuedAsNew]);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            // Started by a concurrent request: one instance either way.
        }
    }

    /// <summary>Makes a sleeping instance look at the year again now; an instance not running takes it when it next waits.</summary>
    public async Task WakeAsync(int year) => await (await durable.ClientAsync()).RaiseEventAsync(Instance(year), YearlyCycle.WakeEvent, "wake");

    public async Task SuspendAsync(int year, string reason) => await (await durable.ClientAsync()).SuspendInstanceAsync(Instance(year), reason);

    public async Task ResumeAsync(int year, string reason) => await (await durable.ClientAsync()).ResumeInstanceAsync(Instance(year), reason);

    /// <summary>The instance's id and the engine's own status (Running, Suspended, Completed, Failed ...); null status when it has none yet.</summary>
    public async Task<(string InstanceId, string? RuntimeStatus)> StatusAsync(int year)
    {
        var state = await (await durable.ClientAsync()).GetOrchestrationStateAsync(InstanceId(year));
        return (InstanceId(year), state?.OrchestrationStatus switch
        {
            null => null,
            OrchestrationStatus.ContinuedAsNew => nameof(OrchestrationStatus.Running),
            var status => status.ToString(),
        });
    }
}
