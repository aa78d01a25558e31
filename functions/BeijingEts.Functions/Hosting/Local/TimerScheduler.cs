using BeijingEts.Functions.Hosting.Invocation;
using Cronos;

namespace BeijingEts.Functions.Hosting.Local;

/// <summary>
/// Runs one timer function on its NCRONTAB schedule, on the injected clock. Like the Functions host's schedule
/// monitor, it remembers the last and next occurrence in storage, so an occurrence missed while the app was down
/// runs once at start-up with IsPastDue set.
/// </summary>
public sealed class TimerScheduler(
    FunctionDescriptor function,
    TimerStatusStore statusStore,
    LocalInvoker invoker,
    TimeProvider clock,
    ILogger logger)
{
    private readonly CronExpression _schedule = function.ParseSchedule();

    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await ScheduleAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                // Storage hiccups must not stop the schedule; the stored status resumes it, past due if need be.
                logger.LogWarning(error, "Timer {FunctionName} lost its schedule status; retrying", function.Name);
                await Task.Delay(TimeSpan.FromSeconds(5), stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task ScheduleAsync(CancellationToken stopping)
    {
        var status = await statusStore.GetAsync(function.Name, stopping);
        if (status?.Next is { } missed && missed <= clock.GetUtcNow())
        {
            await FireAsync(missed, status.Last, pastDue: true, stopping);
            status = status with { Last = missed };
            await statusStore.SaveAsync(function.Name, status, stopping);
        }
        while (!stopping.IsCancellationRequested)
        {
            var now = clock.GetUtcNow();
            var next = _schedule.GetNextOccurrence(now, TimeZoneInfo.Utc)
                ?? throw new InvalidOperationException($"The schedule of {function.Name} never fires again.");
            status = new TimerStatus(status?.Last, next);
            await statusStore.SaveAsync(function.Name, status, stopping);
            // Measured after the save: time that passed while saving comes off the wait.
            var wait = next - clock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, clock, stopping);
            }
            await FireAsync(next, status.Last, pastDue: clock.GetUtcNow() - next > TimeSpan.FromMinutes(1), stopping);
            status = status with { Last = next };
        }
    }

    private async Task FireAsync(DateTimeOffset occurrence, DateTimeOffset? last, bool pastDue, CancellationToken stopping)
    {
        var request = new InvocationRequest(
            new Dictionary<string, JsonElement>
            {
                [BindingNames.Timer] = JsonSerializer.SerializeToElement(new
                {
                    Schedule = new { AdjustForDST = false },
                    ScheduleStatus = new { Last = last, Next = occurrence, LastUpdated = clock.GetUtcNow() },
                    IsPastDue = pastDue,
                }),
            },
            LocalInvoker.Json(new { sys = new { MethodName = function.Name, UtcNow = clock.GetUtcNow(), RandGuid = Guid.NewGuid() } }));
        try
        {
            var (succeeded, response) = await invoker.InvokeAsync(function.Name, request, Guid.NewGuid().ToString(), stopping);
            if (!succeeded)
            {
                // As in Azure, a failed timer run is not retried: the next occurrence is the retry.
                logger.LogWarning("Timer {FunctionName} failed for {Occurrence}: {Logs}", function.Name, occurrence, string.Join(" ", response?.Logs ?? []));
            }
        }
        catch (Exception error) when (error is HttpRequestException or IOException || (error is TaskCanceledException && !stopping.IsCancellationRequested))
        {
            logger.LogWarning("Timer {FunctionName} could not be invoked for {Occurrence} ({Error})", function.Name, occurrence, error.Message);
        }
    }
}

public sealed record TimerStatus(DateTimeOffset? Last, DateTimeOffset? Next);

/// <summary>The last and next occurrence of each timer, kept in the timer-status table.</summary>
public sealed class TimerStatusStore(StorageClients storage)
{
    private const string Partition = "timers";

    public async Task<TimerStatus?> GetAsync(string functionName, CancellationToken cancellationToken)
    {
        var row = await storage.Table(StorageNames.Tables.TimerStatus).GetEntityIfExistsAsync<TableEntity>(Partition, functionName, cancellationToken: cancellationToken);
        return row.HasValue ? new TimerStatus(row.Value!.GetDateTimeOffset("Last"), row.Value.GetDateTimeOffset("Next")) : null;
    }

    public Task SaveAsync(string functionName, TimerStatus status, CancellationToken cancellationToken) =>
        storage.Table(StorageNames.Tables.TimerStatus).UpsertEntityAsync(
            new TableEntity(Partition, functionName) { ["Last"] = status.Last, ["Next"] = status.Next },
            TableUpdateMode.Replace, cancellationToken);
}
