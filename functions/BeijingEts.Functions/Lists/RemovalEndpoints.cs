using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Lists;

/// <summary>POST /api/units/{uscc}/removals (the unit or its district bureau): asks to take a key unit off the list (Art. 9).</summary>
public sealed class RequestRemoval : IHttpFunction
{
    public enum RemovalReason
    {
        Relocated,
        Ceased,
        [JsonStringEnumMemberName("below-threshold-3-years")] BelowThreshold3Years,
        Other,
    }

    public sealed record Request(RemovalReason Reason, DateOnly EffectiveOn, string Explanation);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/units/{uscc}/removals", HandleAsync).WithTags("Removals");

    private static async Task<Results<Created<Removal>, ProblemHttpResult>> HandleAsync(
        string uscc, Request request, HttpContext http, UnitStore units, PublishedListStore lists, StatisticsStore statistics, ListRulesStore rules,
        RemovalStore removals, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units,
            $"A removal of {uscc} is requested by the unit itself or by its own district bureau.", cancellationToken);
        if (unit is null) return problem!;
        var code = unit.Uscc;

        var today = BeijingTime.Today(clock);
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Explanation)) problems.Add("explanation is required: say what happened, for the district bureau to check.");
        else if (request.Explanation.Length > 4000) problems.Add("explanation is longer than 4000 characters.");
        if (request.EffectiveOn.Year < 2013 || request.EffectiveOn > today.AddYears(1)) problems.Add($"effectiveOn {request.EffectiveOn:yyyy-MM-dd} is out of range; give a date up to a year from today.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        if (unit.Status != UnitStatus.Active) return Problems.Unprocessable($"Unit {code} is {unit.Status}; there is nothing to remove.");
        var listed = await KeyListingAsync(lists, code, cancellationToken);
        if (listed is null)
        {
            return Problems.Unprocessable($"Unit {code} is not a key unit on the latest published list, so it cannot be removed from it.");
        }
        if (request.Reason == RemovalReason.BelowThreshold3Years)
        {
            var years = Enumerable.Range(request.EffectiveOn.Year - 3, 3).ToList();
            var evidence = new List<(ListRules, UnitStatistics?)>();
            foreach (var year in years)
            {
                evidence.Add((await rules.InForceAsync(year, cancellationToken), await statistics.FindAsync(year, code, cancellationToken)));
            }
            if (!Classification.BelowKeyThreshold(unit.NationalEts, evidence))
            {
                return Problems.Unprocessable($"The statistics of {years[0]}-{years[^1]} do not show {code} under the key-unit emissions threshold in each of the three years (Art. 9 (三)).");
            }
        }

        var removal = new Removal(PlatformIds.New(), code, unit.District, Reason(request.Reason), request.EffectiveOn, request.Explanation.Trim(),
            RemovalState.PendingDistrict, Actor.From(http.User).Id, clock.GetUtcNow());
        if (await removals.TryAddAsync(removal, cancellationToken) is { } open)
        {
            return Problems.Conflict($"Removal {open} of {code} is still open; it must be confirmed or rejected before another is requested.");
        }
        await audit.RecordAsync(Actor.From(http.User), "removal.requested", $"removals/{removal.Id}", null, removal, cancellationToken);
        // Art. 9: the district bureau verifies it first, then the regulator confirms it; both learn of it now.
        await notices.PublishAsync([NoticeTemplates.RemovalRequested(Party.District(removal.District), removal), NoticeTemplates.RemovalRequested(Party.Regulator, removal)],
            cancellationToken);
        return TypedResults.Created($"/api/removals/{removal.Id}", removal);
    }

    /// <summary>The latest published list that has the unit as a key unit, if the latest list year does.</summary>
    private static async Task<int?> KeyListingAsync(PublishedListStore lists, string uscc, CancellationToken cancellationToken)
    {
        var latest = await lists.LatestAsync(cancellationToken);
        if (latest is null) return null;
        var entry = await lists.EntryAsync(latest.Year, latest.Revision, uscc, cancellationToken);
        return entry?.Category == Categories.Key ? latest.Year : null;
    }

    internal static string Reason(RemovalReason reason) => reason switch
    {
        RemovalReason.BelowThreshold3Years => "below-threshold-3-years",
        _ => JsonNamingPolicy.KebabCaseLower.ConvertName(reason.ToString()),
    };
}

/// <summary>POST /api/removals/{id}/district-confirmation (the unit's district bureau): the first confirmation (Art. 9).</summary>
public sealed class ConfirmRemovalByDistrict : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/removals/{id}/district-confirmation", HandleAsync).WithTags("Removals");

    private static async Task<Results<Ok<Removal>, ProblemHttpResult>> HandleAsync(
        string id, HttpContext http, RemovalStore removals, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await removals.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No removal {id}.");
        var (removal, etag) = found.Value;
        if (!UnitAccess.IsDistrictOf(http.User, removal.District))
        {
            return Problems.Forbidden($"Removal {id} is for a unit in {removal.District}; only {Districts.Bureau(removal.District)} confirms it.");
        }
        if (removal.State != RemovalState.PendingDistrict)
        {
            return Problems.Conflict($"Removal {id} is {removal.State}; the district confirms it only while it awaits district confirmation.");
        }
        var actor = Actor.From(http.User);
        var after = removal with { State = RemovalState.PendingRegulator, DistrictConfirmedBy = actor.Id, DistrictConfirmedAt = clock.GetUtcNow() };
        var saved = await RemovalTransitions.SaveAsync(removals, audit, actor, "removal.district-confirmed", removal, after, etag, cancellationToken);
        if (saved.Result is Ok<Removal>) await notices.PublishAsync(NoticeTemplates.RemovalAwaitsRegulator(after), cancellationToken); // the regulator confirms it now
        return saved;
    }
}

/// <summary>
/// POST /api/removals/{id}/confirmation (regulator): the final confirmation. The unit stops being a key unit from the
/// effective date, its pre-allocated free allowances for that year are due to be reclaimed (Art. 14), and its account
/// must be cancelled within three years (Art. 9).
/// </summary>
public sealed class ConfirmRemoval : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/removals/{id}/confirmation", HandleAsync).WithTags("Removals");

    private static async Task<Results<Ok<Removal>, ProblemHttpResult>> HandleAsync(
        string id, HttpContext http, RemovalStore removals, UnitStore units, Allocation.AllocationStore allocations, Ledger.LedgerSubmitter submitter,
        NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var found = await removals.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No removal {id}.");
        var (removal, etag) = found.Value;
        if (removal.State != RemovalState.PendingRegulator)
        {
            return Problems.Conflict(removal.State == RemovalState.PendingDistrict
                ? $"Removal {id} awaits confirmation by {Districts.Bureau(removal.District)} first (Art. 9)."
                : $"Removal {id} is already {removal.State}.");
        }
        var actor = Actor.From(http.User);
        var deadline = removal.EffectiveOn.AddYears(3);
        var after = removal with
        {
            State = RemovalState.Confirmed,
            ConfirmedBy = actor.Id,
            ConfirmedAt = clock.GetUtcNow(),
            AccountCancellationDeadline = deadline,
            ReclaimPreAllocationYear = removal.EffectiveOn.Year,
        };
        // Art. 14 para 2: the pre-allocated free allowances of the effective year come back with the removal.
        var allocation = await allocations.FindAsync(removal.EffectiveOn.Year, removal.Uscc, cancellationToken);
        Ledger.LedgerTransaction? reclaim = null;
        if (allocation is { PreAllocated.Value: > 0 })
        {
            reclaim = new Ledger.LedgerTransaction(Domain.Ledger.LedgerIds.RemovalReclaim(removal.Id), Domain.Ledger.TransactionType.Reclaim, removal.Uscc,
                Domain.Ledger.RegulatorAccounts.Issuance, Domain.Ledger.Products.Bea, allocation.Year, allocation.PreAllocated, null,
                $"Art. 14 reclaim of the {allocation.Year} pre-allocation on removal {removal.Id}", actor.Id, clock.GetUtcNow());
            after = after with { ReclaimTransactionId = reclaim.TransactionId };
        }
        var saved = await RemovalTransitions.SaveAsync(removals, audit, actor, "removal.confirmed", removal, after, etag, cancellationToken);
        if (saved.Result is not Ok<Removal>) return saved;
        if (reclaim is not null) await submitter.SubmitAsync(reclaim, cancellationToken); // its id is fixed by the removal: once only
        while (await units.FindAsync(removal.Uscc, cancellationToken) is var (unit, unitETag))
        {
            var removedUnit = unit with { Status = UnitStatus.Removed, RemovedOn = removal.EffectiveOn, AccountCancellationDeadline = deadline, UpdatedAt = clock.GetUtcNow() };
            try
            {
                await units.ReplaceAsync(removedUnit, unitETag, cancellationToken);
            }
            catch (RequestFailedException error) when (error.Status == 412)
            {
                continue; // the unit changed meanwhile: apply the removal to what it is now
            }
            await audit.RecordAsync(actor, "unit.removed", $"units/{unit.Uscc}", UnitView.From(unit), UnitView.From(removedUnit), cancellationToken);
            break;
        }
        await notices.PublishAsync(NoticeTemplates.RemovalDecided(after), cancellationToken); // its id is the removal's: told once
        return saved;
    }
}

/// <summary>
/// POST /api/removals/{id}/rejection: the unit's district bureau (while it awaits the district) or the regulator (while
/// it awaits the regulator) turns the removal down, with a reason; the unit may then ask again.
/// </summary>
public sealed class RejectRemoval : IHttpFunction
{
    public sealed record Request(string Reason);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/removals/{id}/rejection", HandleAsync).WithTags("Removals");

    private static async Task<Results<Ok<Removal>, ProblemHttpResult>> HandleAsync(
        string id, Request request, HttpContext http, RemovalStore removals, NoticeOutbox notices, AuditLog audit, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request.Reason)) return ProblemHandling.BadRequest("reason is required: say why the removal is turned down.");
        if (request.Reason.Length > 4000) return ProblemHandling.BadRequest("reason is longer than 4000 characters.");
        var found = await removals.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No removal {id}.");
        var (removal, etag) = found.Value;
        var decides = removal.State switch
        {
            RemovalState.PendingDistrict => UnitAccess.IsDistrictOf(http.User, removal.District),
            RemovalState.PendingRegulator => http.User.IsInRole(Roles.Regulator),
            _ => false,
        };
        if (!RemovalState.IsOpen(removal.State)) return Problems.Conflict($"Removal {id} is already {removal.State}.");
        if (!decides) return Problems.Forbidden($"Removal {id} is {removal.State}; only {(removal.State == RemovalState.PendingDistrict ? Districts.Bureau(removal.District) : "the regulator")} decides it now.");
        var after = removal with { State = RemovalState.Rejected, RejectionReason = request.Reason.Trim() };
        var saved = await RemovalTransitions.SaveAsync(removals, audit, Actor.From(http.User), "removal.rejected", removal, after, etag, cancellationToken);
        if (saved.Result is Ok<Removal>) await notices.PublishAsync(NoticeTemplates.RemovalDecided(after), cancellationToken); // the unit may ask again
        return saved;
    }
}

/// <summary>GET /api/removals/{id}: for the regulator, the unit's district bureau and the unit.</summary>
public sealed class GetRemoval : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/removals/{id}", HandleAsync).WithTags("Removals");

    private static async Task<Results<Ok<Removal>, ProblemHttpResult>> HandleAsync(string id, HttpContext http, RemovalStore removals, CancellationToken cancellationToken)
    {
        var removal = (await removals.FindAsync(id, cancellationToken))?.Removal;
        return UnitAccess.Read(http.User, removal, removal?.Uscc ?? "", removal?.District, $"Removal {id}");
    }
}

internal static class RemovalTransitions
{
    public static Task<Results<Ok<Removal>, ProblemHttpResult>> SaveAsync(
        RemovalStore removals, AuditLog audit, Actor actor, string action, Removal before, Removal after, ETag etag, CancellationToken cancellationToken)
        => DecidedRecords.SaveAsync<Removal>(removals.ReplaceAsync, $"Removal {before.Id}", $"removals/{before.Id}", audit, actor, action, before, after, etag, cancellationToken);
}
