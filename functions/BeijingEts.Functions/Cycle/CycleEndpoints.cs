using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Cycle;

/// <summary>
/// The regulator's handle on a year's orchestration: POST /api/cycles/{year}/start (once; a second start, even at the
/// same moment, gets the same orchestration), /pause, /resume, /advance (past the wait for confirmations), /retry (failed
/// steps), and GET /api/cycles/{year} (where it stands), /phases/{name} (each unit's step), /non-compliant (the list
/// frozen at the surrender deadline for enforcement, Art. 29).
/// </summary>
public sealed class CycleEndpoints : IHttpFunction
{
    public sealed record PhaseView(string Name, int Total, int Done, int Failed, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt);

    public sealed record FailureView(string Unit, string Phase, string? Reason, int Attempts);

    public sealed record HistoryView(DateTimeOffset At, string? From, string To, string Cause);

    public sealed record StatusView(int Year, string Phase, bool Paused, string? Blocked, int? ListRevision, IReadOnlyList<PhaseView> Phases,
        IReadOnlyList<FailureView> Failures, DateTimeOffset? NextTimer, IReadOnlyList<HistoryView> History, string InstanceId, string? RuntimeStatus);

    public sealed record StepView(string Unit, string State, string? Outcome, string? Reason, int Attempts, DateTimeOffset UpdatedAt);

    public sealed record RetryRequest(string? Phase = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        var cycles = api.MapGroup("/cycles/{year:int}").WithTags("Cycle");
        cycles.MapPost("/start", StartAsync);
        cycles.MapPost("/pause", async (int year, HttpContext http, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, AuditLog audit, TimeProvider clock, CancellationToken ct) =>
        {
            var answer = await ChangeAsync(year, http, store, instances, schedules, audit, clock, "cycle.paused", s => s.Paused ? null : s with { Paused = true }, "paused", ct);
            if (answer.Result is Ok<StatusView>) await instances.SuspendAsync(year, $"paused by {Actor.From(http.User).Id}");
            return answer;
        });
        cycles.MapPost("/resume", async (int year, HttpContext http, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, AuditLog audit, TimeProvider clock, CancellationToken ct) =>
        {
            var answer = await ChangeAsync(year, http, store, instances, schedules, audit, clock, "cycle.resumed", s => s.Paused ? s with { Paused = false } : null, "resumed", ct);
            if (answer.Result is Ok<StatusView>)
            {
                await instances.ResumeAsync(year, $"resumed by {Actor.From(http.User).Id}");
                await instances.WakeAsync(year);
            }
            return answer;
        });
        cycles.MapPost("/advance", async (int year, HttpContext http, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, AuditLog audit, TimeProvider clock, CancellationToken ct) =>
        {
            var answer = await ChangeAsync(year, http, store, instances, schedules, audit, clock, "cycle.advance-requested",
                s => s.Phase == CyclePhase.Confirmation && !s.AdvanceRequested ? s with { AdvanceRequested = true } : null, "advance requested", ct, CyclePhase.Confirmation);
            if (answer.Result is Ok<StatusView>) await instances.WakeAsync(year);
            return answer;
        });
        cycles.MapPost("/retry", RetryAsync);
        cycles.MapGet("", async Task<Results<Ok<StatusView>, ProblemHttpResult>> (int year, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, CancellationToken ct) =>
            await store.FindAsync(year, ct) is var (state, _) ? TypedResults.Ok(await ViewAsync(state, store, instances, schedules, ct)) : NotStarted(year));
        cycles.MapGet("/phases/{name}", PhaseAsync);
        cycles.MapGet("/non-compliant", async Task<Results<Ok<IReadOnlyList<StepView>>, ProblemHttpResult>> (int year, CycleStore store, CancellationToken ct) =>
        {
            if (await store.FindAsync(year, ct) is not var (state, _)) return NotStarted(year);
            if (state.Phase < CyclePhase.Assessment) return Problems.Unprocessable($"The {year} cycle is in {CycleState.Name(state.Phase)}; the non-compliant list is frozen at the surrender deadline.");
            var steps = await store.StepsAsync(year, CyclePhase.Assessment, ct);
            return TypedResults.Ok<IReadOnlyList<StepView>>(steps.Where(s => s.Step.Outcome?.StartsWith("non-compliant", StringComparison.Ordinal) == true)
                .Select(s => ToView(s.Step)).OrderBy(s => s.Unit, StringComparer.Ordinal).ToList());
        });
    }

    private static ProblemHttpResult NotStarted(int year) =>
        ProblemHandling.NotFound($"The {year} cycle has not been started; the regulator sets its schedule (PUT /api/cycles/{year}/schedule) and starts it (POST /api/cycles/{year}/start).");

    private static async Task<Results<Created<StatusView>, Ok<StatusView>, ProblemHttpResult>> StartAsync(
        int year, HttpContext http, CycleStore store, CycleScheduleStore schedules, CycleInstances instances, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await schedules.FindAsync(year, cancellationToken) is null)
        {
            return Problems.Unprocessable($"The {year} cycle has no schedule; set it with PUT /api/cycles/{year}/schedule before starting.");
        }
        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var state = new CycleState(year, CyclePhase.ListPublished, false, false, null, null, [new PhaseRecord(CyclePhase.ListPublished, now)],
            [new CycleTransition(now, null, CycleState.Name(CyclePhase.ListPublished), $"started by {actor.Id}")], now, actor.Id);
        var started = await store.TryAddAsync(state, cancellationToken);
        if (started)
        {
            await audit.RecordAsync(actor, "cycle.started", $"cycles/{year}", null, state, cancellationToken);
        }
        // Also on a repeated start: the instance may be missing if the first start stopped between the state and the instance.
        await instances.EnsureStartedAsync(year);
        var (current, _) = (await store.FindAsync(year, cancellationToken))!.Value;
        var view = await ViewAsync(current, store, instances, schedules, cancellationToken);
        return started ? TypedResults.Created($"/api/cycles/{year}", view) : AuditLog.Replayed(http, TypedResults.Ok(view)); // started (and recorded) before
    }

    /// <summary>Applies a change to the state under its ETag (null: nothing to change) and records it in the history.</summary>
    private static async Task<Results<Ok<StatusView>, ProblemHttpResult>> ChangeAsync(
        int year, HttpContext http, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, AuditLog audit, TimeProvider clock, string action,
        Func<CycleState, CycleState?> change, string cause, CancellationToken cancellationToken, CyclePhase? onlyIn = null)
    {
        var actor = Actor.From(http.User);
        while (true)
        {
            if (await store.FindAsync(year, cancellationToken) is not var (state, etag)) return NotStarted(year);
            if (onlyIn is { } phase && state.Phase != phase)
            {
                return Problems.Unprocessable($"The {year} cycle is in {CycleState.Name(state.Phase)}; only the {CycleState.Name(phase)} phase waits for the regulator to advance.");
            }
            if (state.Phase == CyclePhase.Closed) return Problems.Unprocessable($"The {year} cycle is closed.");
            var changed = change(state);
            if (changed is null) return AuditLog.Replayed(http, TypedResults.Ok(await ViewAsync(state, store, instances, schedules, cancellationToken))); // already so
            var now = clock.GetUtcNow();
            changed = changed with { History = [.. changed.History, new CycleTransition(now, CycleState.Name(state.Phase), CycleState.Name(state.Phase), $"{cause} by {actor.Id}")] };
            if (!await store.TryReplaceAsync(changed, etag, cancellationToken)) continue;
            await audit.RecordAsync(actor, action, $"cycles/{year}", new { state.Paused, state.AdvanceRequested }, new { changed.Paused, changed.AdvanceRequested }, cancellationToken);
            return TypedResults.Ok(await ViewAsync(changed, store, instances, schedules, cancellationToken));
        }
    }

    private static async Task<Results<Ok<StatusView>, ProblemHttpResult>> RetryAsync(
        int year, RetryRequest? request, HttpContext http, CycleStore store, CycleScheduleStore schedules, CycleInstances instances, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (await store.FindAsync(year, cancellationToken) is not var (state, _)) return NotStarted(year);
        CyclePhase? only = null;
        if (request?.Phase is { } name)
        {
            if (!TryPhase(name, out var parsed)) return ProblemHandling.BadRequest($"phase '{name}' is not a phase; the phases are {string.Join(", ", Enum.GetValues<CyclePhase>().Select(CycleState.Name))}.");
            only = parsed;
        }
        var retried = 0;
        foreach (var phase in state.Phases.Select(p => p.Phase).Where(p => only is null || p == only))
        {
            foreach (var (step, etag) in await store.StepsInAsync(year, phase, StepState.Failed, cancellationToken))
            {
                var again = step with { State = StepState.Pending, Attempts = 0, Waits = 0, Reason = null, UpdatedAt = clock.GetUtcNow(), NotBefore = CycleStore.ReadyNow };
                if (await store.TryReplaceStepAsync(year, again, etag, cancellationToken)) retried++;
            }
        }
        await audit.RecordAsync(Actor.From(http.User), "cycle.steps-retried", $"cycles/{year}", null, new { phase = only is null ? null : CycleState.Name(only.Value), retried }, cancellationToken);
        if (retried > 0 && state.Phase != CyclePhase.Closed) await instances.WakeAsync(year);
        return TypedResults.Ok(await ViewAsync((await store.FindAsync(year, cancellationToken))!.Value.State, store, instances, schedules, cancellationToken));
    }

    private static async Task<Results<Ok<IReadOnlyList<StepView>>, ProblemHttpResult>> PhaseAsync(int year, string name, CycleStore store, CancellationToken cancellationToken)
    {
        if (!TryPhase(name, out var phase)) return ProblemHandling.NotFound($"No phase '{name}'; the phases are {string.Join(", ", Enum.GetValues<CyclePhase>().Select(CycleState.Name))}.");
        if (await store.FindAsync(year, cancellationToken) is null) return NotStarted(year);
        var steps = await store.StepsAsync(year, phase, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<StepView>>(steps.Select(s => ToView(s.Step)).OrderBy(s => s.Unit, StringComparer.Ordinal).ToList());
    }

    private static bool TryPhase(string name, out CyclePhase phase)
    {
        foreach (var candidate in Enum.GetValues<CyclePhase>())
        {
            if (CycleState.Name(candidate) == name)
            {
                phase = candidate;
                return true;
            }
        }
        phase = default;
        return false;
    }

    private static StepView ToView(CycleStep s) => new(s.Uscc, JsonNamingPolicy.KebabCaseLower.ConvertName(s.State.ToString()), s.Outcome, s.Reason, s.Attempts, s.UpdatedAt);

    public static async Task<StatusView> ViewAsync(CycleState state, CycleStore store, CycleInstances instances, CycleScheduleStore schedules, CancellationToken cancellationToken)
    {
        var phases = new List<PhaseView>();
        var failures = new List<FailureView>();
        foreach (var phase in Enum.GetValues<CyclePhase>())
        {
            var record = state.Phases.LastOrDefault(p => p.Phase == phase);
            if (record?.FannedOutAt is null)
            {
                phases.Add(new PhaseView(CycleState.Name(phase), record?.Total ?? 0, 0, 0, record?.StartedAt, record?.EndedAt));
                continue;
            }
            var (total, done, failed) = await store.CountStepsAsync(state.Year, phase, cancellationToken);
            if (failed > 0)
            {
                failures.AddRange((await store.StepsInAsync(state.Year, phase, StepState.Failed, cancellationToken))
                    .Select(s => new FailureView(s.Step.Uscc, CycleState.Name(phase), s.Step.Reason, s.Step.Attempts)));
            }
            phases.Add(new PhaseView(CycleState.Name(phase), Math.Max(record.Total, total), done, failed, record.StartedAt, record.EndedAt));
        }
        var schedule = await schedules.FindAsync(state.Year, cancellationToken);
        DateTimeOffset? next = state.Paused || schedule is null || state.Phase == CyclePhase.Closed ? null
            : !state.FannedOut ? CyclePhases.DueAt(state.Phase, schedule)
            : state.Phase == CyclePhase.Assessment ? schedule.Close
            : null;
        var (instanceId, runtimeStatus) = await instances.StatusAsync(state.Year);
        return new StatusView(state.Year, CycleState.Name(state.Phase), state.Paused, state.Blocked, state.ListRevision, phases, failures, next,
            state.History.Select(h => new HistoryView(h.At, h.From, h.To, h.Cause)).ToList(), instanceId, runtimeStatus);
    }
}
