using System.Security.Claims;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Allocation;

/// <summary>
/// Allocation adjustment applications (Art. 11, 12): POST /api/allocation/{year}/units/{uscc}/adjustments (the unit),
/// POST /api/adjustments/{id}/evidence (the unit: an upload link), GET /api/allocation/{year}/adjustments?status=,
/// GET /api/adjustments/{id} (with the unit's reports, allocations and earlier adjustments beside it), POST
/// /api/adjustments/{id}/decision (regulator; one that moves tonnes is proposed, 202, for a second regulator), and
/// GET /api/allocation/{year}/reserve.
/// </summary>
public sealed class AdjustmentEndpoints : IHttpFunction
{
    public const int MaxText = 4000;

    public sealed record ApplyRequest(string Reason, string Explanation, long Quantity);

    public sealed record EvidenceRequest(string FileName, string? Description = null);

    public sealed record ReportSummary(int Year, int Version, long TotalEmissionsT, IReadOnlyList<Domain.Reporting.ActivityLine> Activity);

    /// <summary>The application with what the regulator weighs it against, side by side.</summary>
    public sealed record Review(AdjustmentApplication Application, IReadOnlyList<ReportAttachmentEndpoints.View> Evidence, IReadOnlyList<ReportSummary> Reports,
        IReadOnlyList<UnitAllocation> Allocations, IReadOnlyList<AdjustmentApplication> EarlierAdjustments, ReserveView? Reserve);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/allocation/{year:int}/units/{uscc}/adjustments", ApplyAsync).WithTags("Allocation");
        api.MapPost("/adjustments/{id}/evidence", EvidenceAsync).WithTags("Allocation");
        api.MapGet("/allocation/{year:int}/adjustments", ListAsync).WithTags("Allocation");
        api.MapGet("/adjustments/{id}", GetAsync).WithTags("Allocation");
        api.MapPost("/adjustments/{id}/decision", DecideAsync).WithTags("Allocation");
        api.MapGet("/allocation/{year:int}/reserve", async (int year, ReserveLedger reserve, CancellationToken ct) =>
            await reserve.ReadAsync(year, ct) is { } view
                ? (Results<Ok<ReserveView>, ProblemHttpResult>)TypedResults.Ok(view)
                : ProblemHandling.NotFound($"There is no {year} allocation plan, so no {year} reserve.")).WithTags("Allocation");
    }

    private static async Task<Results<Created<AdjustmentApplication>, ProblemHttpResult>> ApplyAsync(int year, string uscc, ApplyRequest request, HttpContext http, UnitStore units,
        ReportingUnits reporting, AllocationPlanStore plans, AdjustmentStore adjustments, NoticeOutbox notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit applies for its own allocation adjustment.", cancellationToken);
        if (unit is null) return problem!;
        var problems = new List<string>();
        if (!AdjustmentReasons.All.Contains(request.Reason)) problems.Add($"reason must be one of {string.Join(", ", AdjustmentReasons.All)}.");
        if (string.IsNullOrWhiteSpace(request.Explanation) || request.Explanation.Length > MaxText) problems.Add($"explanation must say what changed and why it changes the allocation, 1 to {MaxText} characters.");
        if (request.Quantity == 0) problems.Add("quantity is the change asked for in whole tonnes: positive for more allocation, negative for less; not 0.");
        if (year is < 2013 or > 2100) problems.Add($"Year {year} is out of range (2013 to 2100).");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        if ((await reporting.EntryAsync(unit.Uscc, year, cancellationToken))?.Category != Categories.Key)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit on the published {year} list; key units apply for allocation adjustments (Art. 11).");
        }
        var plan = await plans.FindAsync(year, cancellationToken);
        if (plan is null) return Problems.Unprocessable($"There is no {year} allocation plan to adjust an allocation under.");
        if (request.Quantity > plan.Reserve.Value) return Problems.Unprocessable($"{request.Quantity} t is more than the whole {year} reserve ({plan.Reserve.Value} t, Art. 12).");
        if (request.Quantity < -plan.Cap.Value) return Problems.Unprocessable($"{request.Quantity} t is a decrease larger than the whole {year} cap ({plan.Cap.Value} t).");
        if ((await adjustments.ListAsync(year, unit.Uscc, AdjustmentApplication.Submitted, null, cancellationToken)).FirstOrDefault() is { } open)
        {
            return Problems.Conflict($"Unit {unit.Uscc} already has application {open.Id} for {year} awaiting a decision; it is decided before another is filed.");
        }
        var actor = Actor.From(http.User);
        var application = new AdjustmentApplication(PlatformIds.New(), year, unit.Uscc, unit.District, request.Reason, request.Explanation.Trim(), request.Quantity,
            AdjustmentApplication.Submitted, clock.GetUtcNow(), actor.Id);
        await adjustments.AddAsync(application, cancellationToken);
        await audit.RecordAsync(actor, "adjustment.applied", $"adjustments/{application.Id}", null, application, cancellationToken);
        await notices.PublishAsync(NoticeTemplates.AdjustmentFiled(application), cancellationToken);
        return TypedResults.Created($"/api/adjustments/{application.Id}", application);
    }

    private static async Task<Results<Created<ReportAttachmentEndpoints.Link>, ProblemHttpResult>> EvidenceAsync(string id, EvidenceRequest request, HttpContext http,
        AdjustmentStore adjustments, ReportAttachmentStore attachments, UploadLinks links, UploadSettings settings, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (application, problem) = await LoadAsync(id, http.User, adjustments, cancellationToken);
        if (application is null) return problem!;
        if (!UnitAccess.IsUnit(http.User, application.Uscc)) return Problems.Forbidden("The applying unit uploads its evidence.");
        if (ReportAttachmentEndpoints.DocumentProblem(request.FileName, request.Description) is { } bad) return bad;
        if (application.Status != AdjustmentApplication.Submitted) return Problems.Conflict($"Application {id} is decided ({application.Status}); evidence goes with an application awaiting its decision.");
        var link = await ReportAttachmentEndpoints.IssueLinkAsync(application.Uscc, application.Year, request.FileName.Trim(), request.Description, null, Actor.From(http.User),
            "adjustment.evidence-link-issued", $"adjustments/{id}", attachments, links, settings, audit, clock, cancellationToken, new AttachmentFor(AttachmentFor.Adjustment, id));
        return TypedResults.Created($"/api/adjustments/{id}", link);
    }

    /// <summary>The regulator every application of the year; a district its units'; a unit its own.</summary>
    private static async Task<Results<Ok<IReadOnlyList<AdjustmentApplication>>, ProblemHttpResult>> ListAsync(int year, string? status, HttpContext http, AdjustmentStore adjustments,
        CancellationToken cancellationToken)
    {
        if (status is not null && status != AdjustmentApplication.Submitted && !AdjustmentOutcomes.All.Contains(status))
        {
            return ProblemHandling.BadRequest($"status must be {AdjustmentApplication.Submitted} or one of {string.Join(", ", AdjustmentOutcomes.All)}.");
        }
        var user = http.User;
        var uscc = user.IsInRole(Roles.Unit) ? user.FindFirstValue(EtsClaims.UnitId)?.ToUpperInvariant() : null;
        var district = user.IsInRole(Roles.District) ? user.FindFirstValue(EtsClaims.District) : null;
        return TypedResults.Ok(await adjustments.ListAsync(year, uscc, status, district, cancellationToken));
    }

    private static async Task<Results<Ok<Review>, ProblemHttpResult>> GetAsync(string id, HttpContext http, AdjustmentStore adjustments, ReportStore reports,
        AllocationStore allocations, ReportAttachmentStore attachments, UploadLinks links, ReserveLedger reserve, CancellationToken cancellationToken)
    {
        var (application, problem) = await LoadAsync(id, http.User, adjustments, cancellationToken);
        if (application is null) return problem!;
        var years = Enumerable.Range(application.Year - 2, 3).ToList();
        var reportSummaries = new List<ReportSummary>();
        var allocationRecords = new List<UnitAllocation>();
        foreach (var year in years)
        {
            if (await reports.FindLatestAsync(application.Uscc, year, cancellationToken) is { } r) reportSummaries.Add(new ReportSummary(year, r.Version, r.TotalEmissionsT.Value, r.Report.Activity));
            if (await allocations.FindAsync(year, application.Uscc, cancellationToken) is { } a) allocationRecords.Add(a);
        }
        var earlier = (await adjustments.ListAsync(null, application.Uscc, null, null, cancellationToken)).Where(a => a.Id != application.Id).ToList();
        var evidence = await ReportAttachmentEndpoints.ViewsAsync((await attachments.ListAsync(application.Uscc, application.Year, cancellationToken))
            .Where(a => a.For is { Kind: AttachmentFor.Adjustment } f && f.Id == application.Id).ToList(), links, cancellationToken);
        var reserveView = http.User.IsInRole(Roles.Regulator) ? await reserve.ReadAsync(application.Year, cancellationToken) : null;
        return TypedResults.Ok(new Review(application, evidence, reportSummaries, allocationRecords, earlier, reserveView));
    }

    private static async Task<Results<Ok<AdjustmentApplication>, Accepted<ProposalReceipt>, ProblemHttpResult>> DecideAsync(string id, AdjustmentDecisions.Request request,
        HttpContext http, AdjustmentStore adjustments, AdjustmentDecisions decisions, ApprovalService approvals, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        if (!AdjustmentOutcomes.All.Contains(request.Outcome)) problems.Add($"outcome must be one of {string.Join(", ", AdjustmentOutcomes.All)}.");
        if (string.IsNullOrWhiteSpace(request.Reasons) || request.Reasons.Length > MaxText) problems.Add($"reasons must say why, 1 to {MaxText} characters (each outcome needs them).");
        if (request.Outcome == AdjustmentOutcomes.Refused && request.Quantity is not (null or 0)) problems.Add("A refusal grants no quantity: leave quantity out.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var found = await adjustments.FindAsync(id, cancellationToken);
        if (found is null) return ProblemHandling.NotFound($"No adjustment application {id}.");
        var application = found.Value.Application;
        if (application.Status != AdjustmentApplication.Submitted) return Problems.Conflict($"Application {id} was already decided ({application.Status}).");
        var asked = application.RequestedT;
        var granted = request.Quantity ?? 0;
        if (request.Outcome == AdjustmentOutcomes.Granted && granted != asked)
        {
            return ProblemHandling.BadRequest($"Granted in full is the {asked} t asked for; a different quantity is a partial grant (outcome partial).");
        }
        if (request.Outcome == AdjustmentOutcomes.Partial && (granted == 0 || Math.Sign(granted) != Math.Sign(asked) || Math.Abs(granted) >= Math.Abs(asked)))
        {
            return ProblemHandling.BadRequest($"A partial grant is less than the {asked} t asked for, in the same direction, and not 0.");
        }

        var actor = Actor.From(http.User);
        if (request.Outcome == AdjustmentOutcomes.Refused)
        {
            return await decisions.DecideAsync(id, request, actor, actor, cancellationToken) switch
            {
                ({ } decided, _) => TypedResults.Ok(decided),
                (_, var refusal) => Problems.Conflict(refusal!),
            };
        }
        if (await decisions.RefusalAsync(application, granted, cancellationToken) is { } noRoom) return Problems.Unprocessable(noRoom);
        // Tonnes out of or into the reserve cannot be undone: a second regulator approves them (Art. 12).
        var (_, proposal) = await approvals.ProposeAsync(AdjustmentApproval.KindName, $"adjustments/{id}",
            $"{request.Outcome} {application.Uscc}'s {application.Year} adjustment: {granted} t of the {asked} t asked ({(granted > 0 ? "paid from" : "reclaimed into")} the reserve)",
            new AdjustmentApproval.Payload(id, request, actor), actor, cancellationToken);
        return ProposalReceipt.Accepted(proposal);
    }

    /// <summary>The application if the caller may see it (the regulator, the unit's district, the unit); 404 otherwise.</summary>
    private static async Task<(AdjustmentApplication? Application, ProblemHttpResult? Problem)> LoadAsync(string id, ClaimsPrincipal user, AdjustmentStore adjustments,
        CancellationToken cancellationToken)
    {
        var found = await adjustments.FindAsync(id, cancellationToken);
        return found is { } hit && UnitAccess.Check(user, hit.Application.Uscc, hit.Application.District) == AccessVerdict.Allowed
            ? (hit.Application, null)
            : (null, ProblemHandling.NotFound($"No adjustment application {id} that you may see."));
    }
}
