using System.Security.Claims;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Supervision;

/// <summary>
/// A district bureau's work queue (Art. 9 para 1, Art. 23 para 2): GET /api/districts/{district}/checks (the district,
/// the regulator), GET /api/checks/{checkId}, and the district's findings, correction requests and sign-off. The
/// regulator sees every district's overdue checks (GET /api/checks?overdue=true) and which districts have confirmed
/// their list changes (GET /api/lists/{year}/district-checks); a unit sees its own checks (GET /api/units/{uscc}/checks).
/// </summary>
public sealed class CheckEndpoints : IHttpFunction
{
    /// <summary>A finding's or request's text at most: a check keeps them all in one record.</summary>
    public const int MaxText = 1000;

    /// <summary>What one round of a check holds at most: findings, and correction requests.</summary>
    public const int MaxPerRound = 20;

    public sealed record FindingRequest(string? Text = null, bool None = false);

    public sealed record CorrectionRequestBody(string Text, DateOnly? DueOn = null);

    public sealed record SignOffRequest(string Outcome, string? Note = null);

    public sealed record Queue(string District, int Open, int Overdue, IReadOnlyList<DistrictCheck> Checks);

    public sealed record DistrictListCheck(string District, string? CheckId, string Status, string? Outcome, int Changes, DateTimeOffset? SignedAt, bool Overdue);

    public sealed record ListConfirmations(int Year, int Revision, int Districts, int Confirmed, IReadOnlyList<DistrictListCheck> ByDistrict);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/districts/{district}/checks", QueueAsync).WithTags("Supervision");
        api.MapGet("/checks", OverdueAsync).WithTags("Supervision");
        api.MapGet("/checks/{checkId}", GetAsync).WithTags("Supervision");
        api.MapPost("/checks/{checkId}/findings", FindingAsync).WithTags("Supervision");
        api.MapPost("/checks/{checkId}/correction-requests", CorrectionAsync).WithTags("Supervision");
        api.MapPost("/checks/{checkId}/sign-off", SignOffAsync).WithTags("Supervision");
        api.MapGet("/units/{uscc}/checks", (string uscc, int? year, HttpContext http, UnitStore units, DistrictCheckStore store, DistrictCheckService service,
                CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "district checks",
                async code => (await store.ListAsync((await units.FindAsync(code, ct))!.Value.Unit.District, null, null, year, code, ct)).Select(service.View).ToList(),
                _ => "", ct)).WithTags("Supervision");
        api.MapGet("/lists/{year:int}/district-checks", ListChangesAsync).WithTags("Supervision");
    }

    private static async Task<Results<Ok<Queue>, ProblemHttpResult>> QueueAsync(string district, string? status, string? kind, int? year, string? unit,
        DistrictCheckStore store, DistrictCheckService service, CancellationToken cancellationToken)
    {
        if (!Districts.IsKnown(district)) return ProblemHandling.NotFound($"'{district}' is not a Beijing district; the districts are {string.Join("、", Districts.All)}.");
        if (status is not (null or CheckStatus.Open or CheckStatus.Closed)) return ProblemHandling.BadRequest($"status must be '{CheckStatus.Open}' or '{CheckStatus.Closed}'.");
        if (kind is not null && !CheckKinds.All.Contains(kind)) return ProblemHandling.BadRequest($"kind must be one of {string.Join(", ", CheckKinds.All)}.");
        var checks = (await store.ListAsync(district, status, kind, year, unit, cancellationToken)).Select(service.View)
            .OrderBy(c => c.Status == CheckStatus.Open ? 0 : 1).ThenBy(c => c.DueOn).ThenBy(c => c.CheckId, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new Queue(district, checks.Count(c => c.Status == CheckStatus.Open), checks.Count(c => c.Overdue), checks));
    }

    /// <summary>The regulator's view across districts: the open checks (only the overdue ones with ?overdue=true).</summary>
    private static async Task<Results<Ok<IReadOnlyList<DistrictCheck>>, ProblemHttpResult>> OverdueAsync(bool? overdue, string? kind, int? year, DistrictCheckStore store,
        DistrictCheckService service, CancellationToken cancellationToken)
    {
        if (kind is not null && !CheckKinds.All.Contains(kind)) return ProblemHandling.BadRequest($"kind must be one of {string.Join(", ", CheckKinds.All)}.");
        var all = new List<DistrictCheck>();
        foreach (var district in Districts.All)
        {
            all.AddRange((await store.ListAsync(district, CheckStatus.Open, kind, year, null, cancellationToken)).Select(service.View).Where(c => overdue != true || c.Overdue));
        }
        return TypedResults.Ok<IReadOnlyList<DistrictCheck>>(all.OrderBy(c => c.DueOn).ThenBy(c => c.CheckId, StringComparer.Ordinal).ToList());
    }

    private static async Task<Results<Ok<DistrictCheck>, ProblemHttpResult>> GetAsync(string checkId, HttpContext http, DistrictCheckStore store, DistrictCheckService service,
        CancellationToken cancellationToken)
    {
        var (check, problem) = await LoadAsync(checkId, http.User, store, forUnit: true, cancellationToken);
        if (check is null) return problem!;
        return TypedResults.Ok(service.View(check) with { Changes = check.Kind == CheckKinds.ListChanges ? await store.ChangesAsync(check.CheckId, cancellationToken) : null });
    }

    private static async Task<Results<Ok<DistrictCheck>, ProblemHttpResult>> FindingAsync(string checkId, FindingRequest request, HttpContext http, DistrictCheckStore store,
        DistrictCheckService service, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var text = request.Text?.Trim() ?? "";
        if (request.None && text.Length > 0) return ProblemHandling.BadRequest("Give either none: true (nothing was found) or a text, not both.");
        if (!request.None && text.Length is 0 or > MaxText) return ProblemHandling.BadRequest($"text must say what was found, 1 to {MaxText} characters; or send none: true when nothing was.");
        var (loaded, problem) = await LoadAsync(checkId, http.User, store, forUnit: false, cancellationToken);
        if (loaded is null) return problem!;

        var actor = Actor.From(http.User);
        CheckFinding? added = null;
        string? refusal = null;
        var (_, after) = await store.UpdateAsync(loaded.CheckId, check =>
        {
            if (check!.Status == CheckStatus.Closed)
            {
                refusal = $"Check {check.CheckId} is signed off; it reopens when the unit files a new revision.";
                return null;
            }
            var round = check.Findings.Where(f => f.Round == check.Round && f.Source == "district").ToList();
            if (round.Count >= MaxPerRound)
            {
                refusal = $"This round already has {round.Count} findings; put what else was found into one of them, or sign off and open a case.";
                return null;
            }
            if (request.None && round.Any(f => !f.None))
            {
                refusal = "This round already has findings; 'none' would contradict them.";
                return null;
            }
            added = new CheckFinding(check.Findings.Select(f => f.Number).DefaultIfEmpty(0).Max() + 1, "district", request.None ? "none" : text, request.None, check.Round, check.Revision, actor.Id, clock.GetUtcNow());
            return check with { Findings = [.. check.Findings, added] };
        }, cancellationToken);
        if (after is null) return Problems.Conflict(refusal!);
        await audit.RecordAsync(actor, "check.finding-recorded", $"checks/{after.CheckId}", null, added, cancellationToken);
        await service.FindingAfterConfirmationAsync(after, added!, cancellationToken);
        return TypedResults.Ok(service.View(after));
    }

    private static async Task<Results<Ok<DistrictCheck>, ProblemHttpResult>> CorrectionAsync(string checkId, CorrectionRequestBody request, HttpContext http,
        DistrictCheckStore store, DistrictCheckService service, ReportStore reports, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var text = request.Text?.Trim() ?? "";
        if (text.Length is 0 or > MaxText) return ProblemHandling.BadRequest($"text must say what the unit is to correct, 1 to {MaxText} characters.");
        var today = BeijingTime.Today(clock);
        if (request.DueOn is { } asked && (asked <= today || asked > today.AddDays(180))) return ProblemHandling.BadRequest($"dueOn must be after today ({today:yyyy-MM-dd}) and within 180 days.");
        var (loaded, problem) = await LoadAsync(checkId, http.User, store, forUnit: false, cancellationToken);
        if (loaded is null) return problem!;
        if (!CheckKinds.TakesCorrections(loaded.Kind)) return Problems.Unprocessable($"A {loaded.Kind} check has no data of the unit's to correct; record the finding (and propose a case if it calls for one).");

        var dueOn = request.DueOn ?? await service.DueOnAsync(cancellationToken);
        // A key unit's report versions look for requests on its verification check only once told there may be some.
        if (loaded.Kind == CheckKinds.Verification && loaded.Unit is { } reporting) await reports.MarkCorrectionsAskedAsync(reporting, loaded.Year, cancellationToken);
        var actor = Actor.From(http.User);
        CorrectionRequest? added = null;
        var (_, after) = await store.UpdateAsync(loaded.CheckId, check =>
        {
            if (check!.Status == CheckStatus.Closed || check.CorrectionRequests.Count >= 2 * MaxPerRound) return null;
            added = new CorrectionRequest(check.CorrectionRequests.Count + 1, text, dueOn, actor.Id, clock.GetUtcNow());
            return check with { CorrectionRequests = [.. check.CorrectionRequests, added] };
        }, cancellationToken);
        if (after is null) return Problems.Conflict($"Check {loaded.CheckId} is signed off, or holds {2 * MaxPerRound} correction requests already; open a case for what the unit will not correct.");
        await audit.RecordAsync(actor, "check.correction-requested", $"checks/{after.CheckId}", null, added, cancellationToken);
        if (after.Unit is { } unit) await notices.PublishAsync(NoticeTemplates.CorrectionRequested(unit, after.CheckId, added!.Number, added.Text, added.DueOn), cancellationToken);
        return TypedResults.Ok(service.View(after));
    }

    private static async Task<Results<Ok<DistrictCheck>, ProblemHttpResult>> SignOffAsync(string checkId, SignOffRequest request, HttpContext http, DistrictCheckStore store,
        DistrictCheckService service, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request.Outcome is not (CheckOutcomes.Passed or CheckOutcomes.IssuesFound))
        {
            return ProblemHandling.BadRequest($"outcome must be '{CheckOutcomes.Passed}' or '{CheckOutcomes.IssuesFound}'.");
        }
        if (request.Note?.Length > MaxText) return ProblemHandling.BadRequest($"note is over {MaxText} characters.");
        var (loaded, problem) = await LoadAsync(checkId, http.User, store, forUnit: false, cancellationToken);
        if (loaded is null) return problem!;

        var actor = Actor.From(http.User);
        ProblemHttpResult? refusal = null;
        var (before, after) = await store.UpdateAsync(loaded.CheckId, check =>
        {
            var mine = check!.Findings.Where(f => f.Round == check.Round && f.Source == "district").ToList();
            refusal = check.Status == CheckStatus.Closed ? Problems.Conflict($"Check {check.CheckId} is already signed off ({check.SignOff?.Outcome}).")
                : mine.Count == 0 ? Problems.Unprocessable("Record the findings first (POST .../findings); when nothing was found, record none: true.")
                : check.CorrectionRequests.FirstOrDefault(r => r.AnsweredByRevision is null) is { } open
                    ? Problems.Conflict($"Correction request {open.Number} awaits the unit's new revision (due {open.DueOn:yyyy-MM-dd}); sign off once it is answered.")
                : request.Outcome == CheckOutcomes.Passed && mine.All(f => f.None) && check.Findings.Any(f => f.Round == check.Round && f.Source != "district") && request.Note is null
                    ? ProblemHandling.BadRequest("The platform found departures from the quality plan this round; say in note why the check passes nonetheless.")
                : null;
            if (refusal is not null) return null;
            return check with { Status = CheckStatus.Closed, SignOff = new CheckSignOff(request.Outcome, request.Note?.Trim(), actor.Id, clock.GetUtcNow(), check.Round) };
        }, cancellationToken);
        if (after is null) return refusal!;
        await audit.RecordAsync(actor, "check.signed-off", $"checks/{after.CheckId}", before, after.SignOff, cancellationToken);
        if (after.Unit is { } signedUnit) await notices.PublishAsync(NoticeTemplates.CheckSignedOff(signedUnit, after.CheckId, after.Round, request.Outcome), cancellationToken);
        return TypedResults.Ok(service.View(after));
    }

    private static async Task<Results<Ok<ListConfirmations>, ProblemHttpResult>> ListChangesAsync(int year, PublishedListStore lists, DistrictCheckStore store,
        DistrictCheckService service, CancellationToken cancellationToken)
    {
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        if (revision is null) return ProblemHandling.NotFound($"No {year} list is published.");
        var rows = new List<DistrictListCheck>();
        foreach (var district in Districts.All)
        {
            var check = (await store.ListAsync(district, null, CheckKinds.ListChanges, year, null, cancellationToken)).Where(c => c.Revision == revision.Revision).Select(service.View)
                .FirstOrDefault();
            if (check is null) continue;
            rows.Add(new DistrictListCheck(district, check.CheckId, check.Status, check.Outcome, check.ChangeCounts?.Values.Sum() ?? 0, check.SignOff?.SignedAt, check.Overdue));
        }
        return TypedResults.Ok(new ListConfirmations(year, revision.Revision, rows.Count, rows.Count(r => r.Status == CheckStatus.Closed), rows));
    }

    /// <summary>
    /// The check, if the caller may see it: the regulator any, a district bureau its own district's (another's: 403), a
    /// unit (where <paramref name="forUnit"/>) its own (another's, or a missing check: 404).
    /// </summary>
    private static async Task<(DistrictCheck? Check, ProblemHttpResult? Problem)> LoadAsync(string checkId, ClaimsPrincipal user, DistrictCheckStore store, bool forUnit,
        CancellationToken cancellationToken)
    {
        var found = checkId.Length <= 200 ? await store.FindAsync(checkId, cancellationToken) : null;
        var notFound = ProblemHandling.NotFound($"No check {checkId}; a district's checks are listed by GET /api/districts/{{district}}/checks.");
        if (found is not { } hit) return (null, notFound);
        var check = hit.Check;
        if (user.IsInRole(Roles.Regulator)) return (check, null);
        if (user.IsInRole(Roles.District))
        {
            return UnitAccess.IsDistrictOf(user, check.District) ? (check, null)
                : (null, Problems.Forbidden($"Check {checkId} is {Districts.Bureau(check.District)}'s; a district bureau works only on its own district's checks."));
        }
        return forUnit && check.Unit is not null && UnitAccess.IsUnit(user, check.Unit) ? (check, null) : (null, notFound);
    }
}
