using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Lists;

/// <summary>POST /api/changes/{id}/district-confirmation (the unit's district bureau): the first confirmation of a merger or split (Art. 8-9).</summary>
public sealed class ConfirmUnitChangeByDistrict : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/changes/{id}/district-confirmation", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<UnitChange>, ProblemHttpResult>> HandleAsync(
        string id, HttpContext http, UnitChangeStore changes, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await changes.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No change {id}.");
        var (change, etag) = found.Value;
        var actor = Actor.From(http.User);
        var decision = change.ConfirmByDistrict(UnitAccess.IsDistrictOf(http.User, change.District), actor.Id, clock.GetUtcNow());
        return await UnitChangeTransitions.SaveAsync(changes, audit, actor, "unit-change.district-confirmed", change, decision, etag, cancellationToken);
    }
}

/// <summary>
/// POST /api/changes/{id}/confirmation (regulator), after the district's: the merger or split takes effect. The unit is
/// marked succeeded, every holding moves to the successors in the registered shares (one ledger transaction each, its id
/// fixed by the change, so sending the confirmation again, or the <see cref="FinishConfirmedChanges"/> timer, finishes what
/// a stopped one began and moves nothing twice), and the obligations of the open years pass with them (Art. 8, 27).
/// </summary>
public sealed class ConfirmUnitChange : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/changes/{id}/confirmation", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<UnitChange>, ProblemHttpResult>> HandleAsync(
        string id, HttpContext http, UnitChangeStore changes, UnitStore units, CycleScheduleStore schedules, LedgerStore ledger, UnitChangeEffects effects,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await changes.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No change {id}.");
        var (change, etag) = found.Value;
        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var (conflict, years, holdings) = change.State == UnitChangeStates.PendingRegulator
            ? await WhatPassesAsync(change, units, schedules, ledger, now, cancellationToken)
            : (null, [], []);
        if (conflict is not null) return Problems.Conflict(conflict);
        var decision = change.Confirm(actor.Id, now, years, holdings);
        if (decision.Outcome == ChangeOutcome.Decided)
        {
            var saved = await UnitChangeTransitions.SaveAsync(changes, audit, actor, "unit-change.confirmed", change, decision, etag, cancellationToken);
            if (saved.Result is not Ok<UnitChange>) return saved;
        }
        else if (decision.Outcome != ChangeOutcome.AlreadyConfirmed)
        {
            return UnitChangeTransitions.Problem(decision);
        }
        else AuditLog.MarkReplayed(http); // confirmed (and audited) before: this only finishes what that confirmation began
        await effects.TakeEffectAsync(decision.Change, actor, cancellationToken);
        return TypedResults.Ok(decision.Change);
    }

    /// <summary>The open years and the holdings that pass, or why the change cannot take effect now.</summary>
    private static async Task<(string? Conflict, IReadOnlyList<int> Years, IReadOnlyList<HeldQuantity> Holdings)> WhatPassesAsync(
        UnitChange change, UnitStore units, CycleScheduleStore schedules, LedgerStore ledger, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var successor in change.Successors)
        {
            if (await units.FindAsync(successor, cancellationToken) is not ({ Status: UnitStatus.Active }, _))
            {
                return ($"Successor {successor} is no longer an active unit; reject change {change.Id} with POST /api/changes/{change.Id}/rejection and have the unit register it again.", [], []);
            }
        }
        // Tonnes frozen for open orders or deals would come back to the predecessor after it is gone: they are settled first.
        var frozen = (await ledger.ReadAccountAsync(Domain.Ledger.FrozenAccounts.For(change.Uscc), cancellationToken)).Holdings.Sum(h => h.Quantity.Value);
        if (frozen > 0)
        {
            return ($"Unit {change.Uscc} has {frozen} t frozen for open market orders or negotiated deals; they must be cancelled or settled before change {change.Id} is confirmed.", [], []);
        }
        var due = new Dictionary<int, DateTimeOffset>();
        for (var year = change.RegisteredOn.Year - 1; year <= change.RegisteredOn.Year; year++)
        {
            if (await schedules.FindAsync(year, cancellationToken) is { } schedule) due[year] = schedule.SurrenderDue;
        }
        var holdings = (await ledger.ReadAccountAsync(change.Uscc, cancellationToken)).Holdings.Select(h => new HeldQuantity(h.Product, h.Vintage, h.Lot, h.Quantity)).ToList();
        return (null, UnitChange.OpenYears(change.RegisteredOn, due, now), holdings);
    }
}

/// <summary>
/// POST /api/changes/{id}/rejection: the unit's district bureau (while it awaits the district) or the regulator (while it
/// awaits the regulator) turns a merger or split down, with a reason; nothing has moved, and the unit may register it again.
/// </summary>
public sealed class RejectUnitChange : IHttpFunction
{
    public sealed record Request(string Reason);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/changes/{id}/rejection", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<UnitChange>, ProblemHttpResult>> HandleAsync(
        string id, Request request, HttpContext http, UnitChangeStore changes, AuditLog audit, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Reason)) return ProblemHandling.BadRequest("reason is required: say why the change is turned down.");
        if (request.Reason.Length > 4000) return ProblemHandling.BadRequest("reason is longer than 4000 characters.");
        var found = await changes.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No change {id}.");
        var (change, etag) = found.Value;
        var actor = Actor.From(http.User);
        var decision = change.Reject(UnitAccess.IsDistrictOf(http.User, change.District), http.User.IsInRole(Roles.Regulator), actor.Id, request.Reason.Trim());
        return await UnitChangeTransitions.SaveAsync(changes, audit, actor, "unit-change.rejected", change, decision, etag, cancellationToken);
    }
}

/// <summary>GET /api/changes/{id}: for the regulator, the unit's district bureau and the unit.</summary>
public sealed class GetUnitChange : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/changes/{id}", HandleAsync).WithTags("Units");

    private static async Task<Results<Ok<UnitChange>, ProblemHttpResult>> HandleAsync(string id, HttpContext http, UnitChangeStore changes, CancellationToken cancellationToken)
    {
        var change = (await changes.FindAsync(id, cancellationToken))?.Change;
        return UnitAccess.Read(http.User, change, change?.Uscc ?? "", change?.District, $"Change {id}");
    }
}

internal static class UnitChangeTransitions
{
    public static async Task<Results<Ok<UnitChange>, ProblemHttpResult>> SaveAsync(
        UnitChangeStore changes, AuditLog audit, Actor actor, string action, UnitChange before, ChangeDecision decision, ETag etag, CancellationToken cancellationToken)
    {
        if (decision.Outcome != ChangeOutcome.Decided) return Problem(decision);
        return await DecidedRecords.SaveAsync<UnitChange>(
            changes.ReplaceAsync, $"Change {decision.Change.Id}", $"changes/{decision.Change.Id}", audit, actor, action, before, decision.Change, etag, cancellationToken);
    }

    public static ProblemHttpResult Problem(ChangeDecision decision) => decision.Outcome == ChangeOutcome.NotYours
        ? Problems.Forbidden(decision.Reason!)
        : Problems.Conflict(decision.Reason!);
}
