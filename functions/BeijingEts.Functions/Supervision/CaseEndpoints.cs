using System.Security.Claims;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Surrender;
using BeijingEts.Functions.Uploads;
using BeijingEts.Functions.Verification;

namespace BeijingEts.Functions.Supervision;

/// <summary>
/// Inspections and enforcement cases (Art. 23, 25, 29, 30, 33): POST /api/cases (the regulator opens; a district bureau
/// proposes one about a unit of its district; a verification body reports an Art. 9 situation about a unit it verifies),
/// GET /api/cases?party=&amp;status=, GET /api/cases/{caseId}; the regulator accepts a proposal, requests documents by a
/// deadline (the party answers through upload links), records site inspections (so may the party's district), decides,
/// closes (only a decided case) and reopens (with a reason, audited).
/// </summary>
public sealed class CaseEndpoints : IHttpFunction
{
    /// <summary>A case keeps everything in one record: its texts are bounded so that all of it fits.</summary>
    public const int MaxText = 2000;
    public const int MaxItemText = 1000;
    public const int MaxRequests = 10;
    public const int MaxInspections = 6;
    public const int MaxHistory = 40;

    public sealed record OpenRequest(CaseParty Party, string Source, string Summary, string? SourceRef = null, int? Year = null);

    public sealed record RequestBody(string Text, DateOnly DueOn);

    public sealed record InspectionBody(DateOnly Date, IReadOnlyList<string> Inspectors, string Examined, string Findings);

    public sealed record DecisionBody(string Outcome, string LegalBasis, string? Reasons = null, DateOnly? CorrectBy = null, string? Penalty = null, long? DeductT = null);

    public sealed record ReasonBody(string Reason);

    public sealed record DocumentBody(string FileName, string? Description = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/cases", OpenAsync).WithTags("Supervision");
        api.MapGet("/cases", ListAsync).WithTags("Supervision");
        api.MapGet("/cases/{caseId}", GetAsync).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/accept", (string caseId, HttpContext http, CaseStore store, CaseService cases, AuditLog audit, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(caseId, http, store, cases, audit, "case.accepted", c => c.Status == CaseStatus.Proposed
                ? (c with { Status = CaseStatus.Open, History = [.. c.History, new CaseEvent("accepted", Actor.From(http.User).Id, clock.GetUtcNow())] }, null)
                : (null, Problems.Conflict($"Case {c.CaseId} is {c.Status}; only a proposed case is accepted.")), ct)).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/requests", RequestAsync).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/requests/{number:int}/documents", DocumentAsync).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/inspections", InspectionAsync).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/decision", DecideAsync).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/close", (string caseId, HttpContext http, CaseStore store, CaseService cases, AuditLog audit, TimeProvider clock, CancellationToken ct) =>
            ChangeAsync(caseId, http, store, cases, audit, "case.closed", c =>
                c.Status != CaseStatus.Open ? (null, Problems.Conflict($"Case {c.CaseId} is {c.Status}; only an open case is closed."))
                : c.Decision is null ? (null, Problems.Unprocessable($"Case {c.CaseId} has no decision; decide it first (POST /api/cases/{c.CaseId}/decision)."))
                : (c with { Status = CaseStatus.Closed, History = [.. c.History, new CaseEvent("closed", Actor.From(http.User).Id, clock.GetUtcNow())] }, null), ct)).WithTags("Supervision");
        api.MapPost("/cases/{caseId}/reopen", ReopenAsync).WithTags("Supervision");
    }

    private static async Task<Results<Created<EnforcementCase>, ProblemHttpResult>> OpenAsync(OpenRequest request, HttpContext http, UnitStore units,
        ParticipantStore participants, VerifierStore verifiers, VerificationStore verifications, CaseStore store, CaseService cases, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var user = http.User;
        var problems = new List<string>();
        if (request.Party is null || !PartyKinds.All.Contains(request.Party.Kind)) problems.Add($"party.kind must be one of {string.Join(", ", PartyKinds.All)}.");
        if (!CaseSources.All.Contains(request.Source)) problems.Add($"source must be one of {string.Join(", ", CaseSources.All)}.");
        var summary = request.Summary?.Trim() ?? "";
        if (summary.Length is 0 or > MaxText) problems.Add($"summary must say what the case is about, 1 to {MaxText} characters.");
        if (request.SourceRef?.Length > 400) problems.Add("sourceRef is over 400 characters.");
        if (request.Year is { } y && y is < 2013 or > 2100) problems.Add($"year {y} is out of range (2013 to 2100).");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        if (request.Source == CaseSources.NonCompliance)
        {
            return Problems.Unprocessable("Cases from the non-compliant list are opened at assessment, one per unit and year; see GET /api/cases?status=open.");
        }

        // Who the party is, and that it exists.
        var party = request.Party!;
        string? district = null;
        string id;
        if (party.Kind == PartyKinds.Laboratory)
        {
            id = party.Id?.Trim() ?? "";
            if (id.Length is 0 or > 200) return ProblemHandling.BadRequest("party.id must name the laboratory, 1 to 200 characters.");
        }
        else
        {
            if (!UnitInput.TryParse(party.Id ?? "", out id, out var invalid)) return invalid!;
            var known = party.Kind switch
            {
                PartyKinds.Unit => (await units.FindAsync(id, cancellationToken)) is var (unit, _) ? (district = unit.District) is not null : false,
                PartyKinds.Participant => await participants.FindAsync(id, cancellationToken) is not null,
                _ => await verifiers.FindAsync(id, cancellationToken) is not null,
            };
            if (!known) return ProblemHandling.NotFound($"No {party.Kind} {id} is on record.");
        }

        // The regulator opens; a district bureau proposes about its own units; a verification body reports about a unit it verifies.
        var status = CaseStatus.Open;
        if (user.IsInRole(Roles.District))
        {
            if (party.Kind != PartyKinds.Unit || district is null || !UnitAccess.IsDistrictOf(user, district))
            {
                return Problems.Forbidden("A district bureau proposes cases about units registered in its district.");
            }
            status = CaseStatus.Proposed;
        }
        else if (user.IsInRole(Roles.Verifier))
        {
            if (request.Source != CaseSources.VerifierReport) return ProblemHandling.BadRequest($"A verification body reports with source '{CaseSources.VerifierReport}' (Art. 25 para 2).");
            if (party.Kind != PartyKinds.Unit || request.Year is not { } year) return ProblemHandling.BadRequest("A verification body's report names the unit (party.kind unit) and the year it verifies.");
            var engagement = await verifications.FindAsync(id, year, cancellationToken);
            if (engagement is null || !string.Equals(engagement.Verifier, user.FindFirstValue(EtsClaims.VerifierId), StringComparison.OrdinalIgnoreCase))
            {
                return Problems.Forbidden($"A verification body reports about a unit it verifies; it has no engagement for unit {id}'s {year} report.");
            }
            status = CaseStatus.Proposed;
        }

        var actor = Actor.From(user);
        var now = clock.GetUtcNow();
        var opened = new EnforcementCase($"case-{BeijingTime.Today(clock):yyyyMMdd}-{Guid.NewGuid().ToString("N")[..10]}", status, party with { Id = id }, district, request.Source,
            request.SourceRef?.Trim(), request.Year, null, summary, actor.Id, now, BeijingTime.Today(clock).Year, [], [], null, [new CaseEvent(status == CaseStatus.Open ? "opened" : "proposed", actor.Id, now)]);
        if (!await store.TryAddAsync(opened, cancellationToken)) return Problems.Conflict("A case with this id was opened at the same moment; send the request again.");
        await audit.RecordAsync(actor, status == CaseStatus.Open ? "case.opened" : "case.proposed", $"cases/{opened.CaseId}", null, opened, cancellationToken);
        return TypedResults.Created($"/api/cases/{opened.CaseId}", await cases.ViewAsync(opened, withDocuments: false, cancellationToken));
    }

    /// <summary>The regulator any (filtered by party and status), a district bureau its units' cases, a party only its own.</summary>
    private static async Task<Results<Ok<IReadOnlyList<EnforcementCase>>, ProblemHttpResult>> ListAsync(string? party, string? status, HttpContext http, CaseStore store,
        CaseService cases, CancellationToken cancellationToken)
    {
        if (status is not (null or CaseStatus.Proposed or CaseStatus.Open or CaseStatus.Closed))
        {
            return ProblemHandling.BadRequest($"status must be {CaseStatus.Proposed}, {CaseStatus.Open} or {CaseStatus.Closed}.");
        }
        if (party?.Length > 200) return ProblemHandling.BadRequest("party is over 200 characters.");
        var user = http.User;
        var district = user.IsInRole(Roles.District) ? user.FindFirstValue(EtsClaims.District) : null;
        // A party reads only its own cases: the query asks for them, not for everyone's to filter.
        var own = user.IsInRole(Roles.Unit) ? user.FindFirstValue(EtsClaims.UnitId) : user.IsInRole(Roles.Participant) ? user.FindFirstValue(EtsClaims.ParticipantId)
            : user.IsInRole(Roles.Verifier) ? user.FindFirstValue(EtsClaims.VerifierId) : null;
        if (own is not null && party is not null && !string.Equals(own, party, StringComparison.OrdinalIgnoreCase)) return TypedResults.Ok<IReadOnlyList<EnforcementCase>>([]);
        var found = await store.ListAsync(own?.ToUpperInvariant() ?? party, status, district, cancellationToken);
        var views = new List<EnforcementCase>();
        foreach (var c in found.Where(c => CaseService.CanSee(user, c)).OrderByDescending(c => c.OpenedAt)) views.Add(await cases.ViewAsync(c, withDocuments: false, cancellationToken));
        return TypedResults.Ok<IReadOnlyList<EnforcementCase>>(views);
    }

    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> GetAsync(string caseId, HttpContext http, CaseStore store, CaseService cases,
        CancellationToken cancellationToken)
    {
        var (found, problem) = await LoadAsync(caseId, http, store, cancellationToken);
        return found is null ? problem! : TypedResults.Ok(await cases.ViewAsync(found, withDocuments: true, cancellationToken));
    }

    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> RequestAsync(string caseId, RequestBody body, HttpContext http, CaseStore store, CaseService cases,
        NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var text = body.Text?.Trim() ?? "";
        if (text.Length is 0 or > MaxItemText) return ProblemHandling.BadRequest($"text must say which documents are asked for, 1 to {MaxItemText} characters.");
        var today = BeijingTime.Today(clock);
        if (body.DueOn <= today || body.DueOn > today.AddDays(180)) return ProblemHandling.BadRequest($"dueOn must be after today ({today:yyyy-MM-dd}) and within 180 days.");
        var actor = Actor.From(http.User);
        var result = await ChangeAsync(caseId, http, store, cases, audit, "case.documents-requested", c => c.Status != CaseStatus.Open
            ? (null, Problems.Conflict($"Case {c.CaseId} is {c.Status}; documents are requested in an open case."))
            : c.Requests.Count >= MaxRequests ? (null, Problems.Conflict($"Case {c.CaseId} has {MaxRequests} requests; ask for several documents in one."))
            : (c with { Requests = [.. c.Requests, new DocumentRequest(c.Requests.Count + 1, text, body.DueOn, actor.Id, clock.GetUtcNow())] }, null), cancellationToken);
        if (result.Result is Ok<EnforcementCase> { Value: { } asked } && PartyOf(asked) is { } party && asked.Requests is [.., var last])
        {
            await notices.PublishAsync(NoticeTemplates.CaseRequest(party, asked.CaseId, last.Number, last.Text, last.DueOn), cancellationToken);
        }
        return result;
    }

    /// <summary>The decision in a sentence for the party's notice.</summary>
    private static string Describe(CaseDecision d) => d.Outcome switch
    {
        CaseOutcomes.NoViolation => "no violation found / 未发现违法行为",
        CaseOutcomes.OrderToCorrect => $"order to correct by {d.CorrectBy:yyyy-MM-dd} / 责令于 {d.CorrectBy:yyyy-MM-dd} 前改正",
        _ => $"{d.Penalty}",
    } + (d.DeductT is { } t ? $"; {t.Value} t deducted from the {d.DeductFromYear} allocation / 核减 {d.DeductFromYear} 年度配额 {t.Value} 吨" : "") + $" ({d.LegalBasis})";

    /// <summary>Who the case's notices go to: the party, when it is one with an account (a laboratory has none).</summary>
    private static Party? PartyOf(EnforcementCase c) => c.Party.Kind switch
    {
        PartyKinds.Unit => Party.Unit(c.Party.Id),
        PartyKinds.Verifier => Party.Verifier(c.Party.Id),
        PartyKinds.Participant => new Party(Roles.Participant, c.Party.Id),
        _ => null,
    };

    /// <summary>The party's signed upload link for one document answering a request of its case.</summary>
    private static async Task<Results<Created<ReportAttachmentEndpoints.Link>, ProblemHttpResult>> DocumentAsync(string caseId, int number, DocumentBody body, HttpContext http,
        CaseStore store, ReportAttachmentStore attachments, UploadLinks links, UploadSettings settings, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (found, problem) = await LoadAsync(caseId, http, store, cancellationToken);
        if (found is null) return problem!;
        if (!CaseService.IsParty(http.User, found)) return Problems.Forbidden("The party of the case answers its requests.");
        if (ReportAttachmentEndpoints.DocumentProblem(body.FileName, body.Description) is { } bad) return bad;
        if (found.Status != CaseStatus.Open) return Problems.Conflict($"Case {found.CaseId} is {found.Status}; documents are sent to an open case.");
        if (found.Requests.All(r => r.Number != number)) return ProblemHandling.NotFound($"Case {found.CaseId} has no request {number}.");
        var link = await ReportAttachmentEndpoints.IssueLinkAsync(found.Party.Id, found.DocumentYear, body.FileName.Trim(), body.Description, null, Actor.From(http.User),
            "case.document-link-issued", $"cases/{found.CaseId}", attachments, links, settings, audit, clock, cancellationToken, new AttachmentFor(AttachmentFor.Case, found.CaseId, number));
        return TypedResults.Created($"/api/cases/{found.CaseId}", link);
    }

    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> InspectionAsync(string caseId, InspectionBody body, HttpContext http, CaseStore store,
        CaseService cases, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var inspectors = (body.Inspectors ?? []).Select(i => i?.Trim() ?? "").ToList();
        if (inspectors.Count is 0 or > 20 || inspectors.Any(i => i.Length is 0 or > 100)) problems.Add("inspectors must name 1 to 20 people, each 1 to 100 characters.");
        if (body.Date > BeijingTime.Today(clock) || body.Date.Year < 2013) problems.Add("date is the day of the inspection: not in the future.");
        if (string.IsNullOrWhiteSpace(body.Examined) || body.Examined.Length > MaxItemText) problems.Add($"examined must say what was examined, 1 to {MaxItemText} characters.");
        if (string.IsNullOrWhiteSpace(body.Findings) || body.Findings.Length > MaxItemText) problems.Add($"findings must say what was found (or that nothing was), 1 to {MaxItemText} characters.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var actor = Actor.From(http.User);
        return await ChangeAsync(caseId, http, store, cases, audit, "case.inspection-recorded", c => c.Status != CaseStatus.Open
            ? (null, Problems.Conflict($"Case {c.CaseId} is {c.Status}; inspections are recorded in an open case."))
            : c.Inspections.Count >= MaxInspections ? (null, Problems.Conflict($"Case {c.CaseId} has {MaxInspections} inspection records; open a new case for further inspections."))
            : (c with { Inspections = [.. c.Inspections, new SiteInspection(c.Inspections.Count + 1, body.Date, inspectors, body.Examined.Trim(), body.Findings.Trim(), actor.Id, clock.GetUtcNow())] }, null),
            cancellationToken, districtMay: true);
    }

    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> DecideAsync(string caseId, DecisionBody body, HttpContext http, CaseStore store, CaseService cases,
        ComplianceService compliance, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (!CaseOutcomes.All.Contains(body.Outcome)) problems.Add($"outcome must be one of {string.Join(", ", CaseOutcomes.All)}.");
        if (string.IsNullOrWhiteSpace(body.LegalBasis) || body.LegalBasis.Length > 1000) problems.Add("legalBasis must cite the articles and rules the decision rests on, 1 to 1,000 characters.");
        if (body.Reasons?.Length > MaxText) problems.Add($"reasons are over {MaxText} characters.");
        var today = BeijingTime.Today(clock);
        if (body.Outcome == CaseOutcomes.OrderToCorrect && (body.CorrectBy is not { } by || by <= today)) problems.Add("An order to correct needs correctBy, a date after today.");
        if (body.Outcome == CaseOutcomes.Penalty && (string.IsNullOrWhiteSpace(body.Penalty) || body.Penalty.Length > 1000))
        {
            problems.Add("A penalty decision needs penalty: the amount and measure under the applicable rules, as text (1 to 1,000 characters).");
        }
        if (body.Outcome == CaseOutcomes.NoViolation && (body.Penalty is not null || body.DeductT is not null)) problems.Add("A no-violation decision has no penalty and no deduction.");
        if (body.DeductT is <= 0) problems.Add($"deductT is {body.DeductT}; give a positive whole number of tonnes, or leave it out.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var (found, problem) = await LoadAsync(caseId, http, store, cancellationToken);
        if (found is null) return problem!;
        if (found.Status != CaseStatus.Open) return Problems.Conflict($"Case {found.CaseId} is {found.Status}; an open case is decided (reopen a closed one first).");
        // A deduction a verified allocation has taken stands: a new decision keeps it, and takes nothing more.
        var taken = found.Decision is { DeductFromYear: { } takenIn, DeductT: { } takenT } && await cases.DeductionTakenAsync(found.Party.Id, takenIn, cancellationToken)
            ? found.Decision : null;
        if (taken is not null && body.DeductT != taken.DeductT!.Value.Value)
        {
            return Problems.Unprocessable($"The {taken.DeductFromYear} verified allocation has taken this case's {taken.DeductT!.Value.Value} t deduction; a new decision keeps it (deductT {taken.DeductT.Value.Value}).");
        }
        int? deductFrom = taken?.DeductFromYear;
        if (taken is null && body.DeductT is { } deduct)
        {
            // A deduction is for a surrender shortfall (Art. 29): at most the unit's shortfall in the case's year.
            if (found.Party.Kind != PartyKinds.Unit || found.Year is not { } year)
            {
                return Problems.Unprocessable("A deduction from next year's allocation is for a unit's surrender shortfall: the case must be about a unit and name the year.");
            }
            var view = await compliance.ForUnitAsync(found.Party.Id, year, cancellationToken);
            // Other cases about the same shortfall may have deducted part of it already.
            var elsewhere = (await store.ListAsync(found.Party.Id, null, null, cancellationToken))
                .Where(c => c.CaseId != found.CaseId && c.Party.Kind == PartyKinds.Unit && c.Year == year).Sum(c => c.Decision?.DeductT?.Value ?? 0);
            if (view.ShortfallT is not { } shortfall || deduct > shortfall || elsewhere > shortfall - deduct)
            {
                return Problems.Unprocessable($"Unit {found.Party.Id}'s {year} shortfall is {view.ShortfallT?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not established"} t"
                    + (elsewhere > 0 ? $", {elsewhere} t of it deducted by other cases" : "") + $"; a deduction of {deduct} t cannot exceed what remains.");
            }
            deductFrom = await cases.DeductionYearAsync(found.Party.Id, year, cancellationToken);
        }

        var actor = Actor.From(http.User);
        var decision = new CaseDecision(body.Outcome, body.LegalBasis.Trim(), body.Reasons?.Trim(), body.CorrectBy, body.Penalty?.Trim(), body.DeductT is { } t ? new Tonnes(t) : null,
            deductFrom, actor.Id, clock.GetUtcNow());
        var previous = found.Decision;
        var result = await ChangeAsync(caseId, http, store, cases, audit, "case.decided", c => c.Status != CaseStatus.Open || c.Decision != previous
            ? (null, Problems.Conflict($"Case {c.CaseId} changed while this was decided; read it again."))
            : (c with { Decision = decision, History = [.. c.History, new CaseEvent("decided", actor.Id, decision.DecidedAt, decision.Outcome)] }, null), cancellationToken);
        if (result.Result is not Ok<EnforcementCase> { Value: { } decided }) return result;
        if (taken is null)
        {
            // The deduction waits for its allocation year's verified allocation; a new decision replaces an earlier one not yet taken.
            if (previous?.DeductFromYear is { } before && (before != deductFrom || decision.DeductT is null)) await store.DeleteDeductionAsync(before, found.Party.Id, found.CaseId, cancellationToken);
            if (decision.DeductT is { } quantity && deductFrom is { } target)
            {
                await store.PutDeductionAsync(new AllocationDeduction(found.CaseId, found.Party.Id, found.Year!.Value, target, quantity), cancellationToken);
            }
        }
        if (PartyOf(decided) is { } party)
        {
            await notices.PublishAsync(NoticeTemplates.CaseDecided(party, decided.CaseId, decided.History.Count(e => e.Action == "decided"), Describe(decision)), cancellationToken);
        }
        return result;
    }

    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> ReopenAsync(string caseId, ReasonBody body, HttpContext http, CaseStore store, CaseService cases,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var reason = body.Reason?.Trim() ?? "";
        if (reason.Length is 0 or > MaxText) return ProblemHandling.BadRequest($"reason must say why the case is reopened, 1 to {MaxText} characters.");
        return await ChangeAsync(caseId, http, store, cases, audit, "case.reopened", c => c.Status != CaseStatus.Closed
            ? (null, Problems.Conflict($"Case {c.CaseId} is {c.Status}; only a closed case is reopened."))
            : c.History.Count >= MaxHistory ? (null, Problems.Conflict($"Case {c.CaseId} was reopened too often; open a new case that refers to it."))
            : (c with { Status = CaseStatus.Open, History = [.. c.History, new CaseEvent("reopened", Actor.From(http.User).Id, clock.GetUtcNow(), reason)] }, null), cancellationToken);
    }

    /// <summary>
    /// Loads the case for the caller and applies <paramref name="change"/> (which refuses with a problem, or gives the
    /// case after) under its ETag, auditing it. The regulator changes any case; with <paramref name="districtMay"/>, the
    /// party unit's district bureau too.
    /// </summary>
    private static async Task<Results<Ok<EnforcementCase>, ProblemHttpResult>> ChangeAsync(string caseId, HttpContext http, CaseStore store, CaseService cases, AuditLog audit,
        string action, Func<EnforcementCase, (EnforcementCase? After, ProblemHttpResult? Refusal)> change, CancellationToken cancellationToken, bool districtMay = false)
    {
        var (found, problem) = await LoadAsync(caseId, http, store, cancellationToken);
        if (found is null) return problem!;
        if (!http.User.IsInRole(Roles.Regulator) && !(districtMay && http.User.IsInRole(Roles.District)))
        {
            return Problems.Forbidden("The regulator acts on cases.");
        }
        ProblemHttpResult? refusal = null;
        var after = await store.UpdateAsync(found.CaseId, c =>
        {
            var (next, refused) = change(c);
            refusal = refused;
            return next;
        }, cancellationToken);
        if (after is null) return refusal ?? ProblemHandling.NotFound($"No case {caseId}.");
        await audit.RecordAsync(Actor.From(http.User), action, $"cases/{after.CaseId}", found, after, cancellationToken);
        return TypedResults.Ok(await cases.ViewAsync(after, withDocuments: false, cancellationToken));
    }

    /// <summary>The case if the caller may see it; 404 otherwise, so nobody outside learns a case exists.</summary>
    private static async Task<(EnforcementCase? Case, ProblemHttpResult? Problem)> LoadAsync(string caseId, HttpContext http, CaseStore store, CancellationToken cancellationToken)
    {
        var found = caseId.Length <= 200 ? await store.FindAsync(caseId, cancellationToken) : null;
        return found is { } hit && CaseService.CanSee(http.User, hit.Case)
            ? (hit.Case, null)
            : (null, ProblemHandling.NotFound($"No case {caseId} that you may see; your cases are listed by GET /api/cases."));
    }
}
