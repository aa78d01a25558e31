using BeijingEts.Domain.Approvals;
using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Reporting;

public enum ConfirmationBasis
{
    /// <summary>The verified total, as the accepted verification statement gives it.</summary>
    Verified,
    /// <summary>A figure the regulator set itself, with its reason (expert review, spot check, no usable verification).</summary>
    Adjusted,
}

/// <summary>
/// A key unit's annual emissions as the regulator confirmed them (Art. 23): the figure surrender is measured against,
/// and with the activity of the report version it rests on, what the verified allocation is computed from.
/// <c>DistrictCheck</c> is where the district's preliminary check of the verification stood when it was confirmed
/// ("pending" before its sign-off, else its outcome); <c>ReviewRequested</c> says which district finding came after it.
/// </summary>
public sealed record ConfirmedEmissions(
    string Uscc, int Year, Tonnes ConfirmedEmissionsT, ConfirmationBasis Basis, string? Reason, int ReportVersion, Tonnes ReportedEmissionsT,
    IReadOnlyList<ActivityLine> Activity, DateTimeOffset ConfirmedAt, string ConfirmedBy, string? DistrictCheck = null, string? ReviewRequested = null,
    string? NoticeId = null);

/// <summary>The confirmations table: one row per year and unit, the year's partition read whole by the verified allocation.</summary>
public sealed class ConfirmationStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Confirmations);

    public Task<ConfirmedEmissions?> FindAsync(int year, string uscc, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<ConfirmedEmissions>(DocumentRows.YearKey(year), uscc, cancellationToken);

    /// <summary>The named units' confirmations for the year, by unit: one range query.</summary>
    public Task<IReadOnlyDictionary<string, ConfirmedEmissions>> FindManyAsync(int year, IReadOnlyCollection<string> units, CancellationToken cancellationToken) =>
        Table.ReadRowsAsync<ConfirmedEmissions>(DocumentRows.YearKey(year), units, cancellationToken);

    public async Task<IReadOnlyDictionary<string, ConfirmedEmissions>> ReadYearAsync(int year, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<ConfirmedEmissions>(DocumentRows.YearKey(year), cancellationToken)).ToDictionary(c => c.Uscc, StringComparer.Ordinal);

    public Task PutAsync(ConfirmedEmissions confirmed, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DocumentRows.YearKey(confirmed.Year), confirmed.Uscc, confirmed, cancellationToken);

    /// <summary>Changes the confirmation as it stands (again on a concurrent write), so a change cannot put back an older figure; null when there is none.</summary>
    public async Task<(ConfirmedEmissions Before, ConfirmedEmissions After)?> UpdateAsync(int year, string uscc, Func<ConfirmedEmissions, ConfirmedEmissions> change,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            var row = await Table.GetEntityIfExistsAsync<TableEntity>(DocumentRows.YearKey(year), uscc, cancellationToken: cancellationToken);
            if (!row.HasValue) return null;
            var before = DocumentRows.Read<ConfirmedEmissions>(row.Value!);
            var after = change(before);
            if (await Table.TryWriteAsync(DocumentRows.Entity(DocumentRows.YearKey(year), uscc, after), row.Value!.ETag, cancellationToken)) return (before, after);
        }
    }
}

/// <summary>
/// POST /api/units/{uscc}/reports/{year}/confirmation (regulator, Art. 23): confirms a key unit's annual emissions, on
/// the verified figure or adjusted with a reason (proposed, 202: a second regulator approves it), against its latest report version. Confirming again replaces the
/// figure; the audit trail keeps every one. GET: the confirmation (the unit, its district, the regulator).
/// </summary>
public sealed class ConfirmEmissions : IHttpFunction
{
    public sealed record Request(Tonnes ConfirmedEmissions, ConfirmationBasis Basis, string? Reason = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/reports/{year:int}/confirmation", HandleAsync).WithTags("Reports");
        api.MapGet("/units/{uscc}/reports/{year:int}/confirmation", (string uscc, int year, HttpContext http, UnitStore units, ConfirmationStore confirmations, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "confirmed emissions", code => confirmations.FindAsync(year, code, ct),
                code => $"Unit {code}'s {year} emissions have not been confirmed.", ct)).WithTags("Reports");
    }

    private static async Task<Results<Ok<ConfirmedEmissions>, Accepted<ProposalReceipt>, ProblemHttpResult>> HandleAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, ReportStore reports,
        VerificationStore verifications, EmissionConfirmations confirmations, ApprovalService approvals, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "Only the regulator confirms emissions.", cancellationToken);
        if (unit is null) return problem!;
        if (request.ConfirmedEmissions.Value < 0) return ProblemHandling.BadRequest($"confirmedEmissions is {request.ConfirmedEmissions.Value}; it cannot be negative.");
        if (request.Basis == ConfirmationBasis.Adjusted && string.IsNullOrWhiteSpace(request.Reason))
        {
            return ProblemHandling.BadRequest("An adjusted confirmation needs a reason: say why the figure differs from the verified one.");
        }
        if (request.Reason?.Length > ReportLimits.MaxText) return ProblemHandling.BadRequest($"reason is over {ReportLimits.MaxText} characters.");
        var entry = await reporting.EntryAsync(unit.Uscc, year, cancellationToken);
        if (entry is null || entry.Category != Categories.Key)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit on the published {year} list; the regulator confirms key units' emissions and checks general reporting units' reports (Art. 23).");
        }
        var report = await reports.FindLatestAsync(unit.Uscc, year, cancellationToken);
        if (report is null) return Problems.Unprocessable($"Unit {unit.Uscc} has not reported for {year}; there is nothing to confirm yet.");
        if (request.Basis == ConfirmationBasis.Verified)
        {
            var verification = await verifications.FindAsync(unit.Uscc, year, cancellationToken);
            if (verification is not { Status: VerificationStatus.Accepted } accepted)
            {
                return Problems.Unprocessable($"Unit {unit.Uscc}'s {year} verification is {(verification is null ? "not started" : JsonNamingPolicy.KebabCaseLower.ConvertName(verification.Status.ToString()))}, not accepted; confirm with basis adjusted and a reason, or wait for the verification.");
            }
            if (accepted.ReportVersion != report.Version)
            {
                return Problems.Unprocessable($"The accepted verification is of report version {accepted.ReportVersion}, but the latest version is {report.Version}; have version {report.Version} verified, or confirm with basis adjusted and a reason.");
            }
            if (accepted.Statement?.Opinion == VerificationOpinion.NotVerified)
            {
                return Problems.Unprocessable("The verification body's opinion is not-verified; confirm with basis adjusted and a reason.");
            }
            if (accepted.VerifiedEmissionsT != request.ConfirmedEmissions)
            {
                return Problems.Unprocessable($"The verified total is {accepted.VerifiedEmissionsT?.Value} t, not {request.ConfirmedEmissions.Value} t; a different figure is confirmed with basis adjusted and a reason.");
            }
        }
        var actor = Actor.From(http.User);
        var confirmed = new ConfirmedEmissions(unit.Uscc, year, request.ConfirmedEmissions, request.Basis, request.Reason?.Trim(), report.Version,
            report.TotalEmissionsT, report.Report.Activity, clock.GetUtcNow(), actor.Id);
        if (request.Basis == ConfirmationBasis.Adjusted)
        {
            // A figure other than the verified one is what surrender is measured against (Art. 23, 27): a second regulator approves it.
            var (_, proposal) = await approvals.ProposeAsync(AdjustedConfirmationApproval.KindName, $"units/{unit.Uscc}/reports/{year}",
                $"confirm {unit.Uscc}'s {year} emissions as {request.ConfirmedEmissions.Value} t (adjusted; report version {report.Version} says {report.TotalEmissionsT.Value} t)",
                confirmed, actor, cancellationToken);
            return ProposalReceipt.Accepted(proposal);
        }
        return TypedResults.Ok(await confirmations.SaveAsync(confirmed, actor, cancellationToken));
    }
}

/// <summary>Records a confirmation, with its audit row (the before image is the confirmation it replaces).</summary>
public sealed class EmissionConfirmations(ConfirmationStore confirmations, UnitStore units, VerificationStore verifications, Supervision.DistrictCheckService checks,
    Notifications.NoticeOutbox notices, AuditLog audit)
{
    public async Task<ConfirmedEmissions> SaveAsync(ConfirmedEmissions confirmed, Actor actor, CancellationToken cancellationToken)
    {
        var before = await confirmations.FindAsync(confirmed.Year, confirmed.Uscc, cancellationToken);
        // Allowed before the district signs its check off, but recorded as such (Art. 23).
        var district = (await units.FindAsync(confirmed.Uscc, cancellationToken))?.Unit.District;
        confirmed = confirmed with
        {
            DistrictCheck = district is null ? null : await checks.ConfirmationStateAsync(confirmed.Uscc, district, confirmed.Year,
                (await verifications.FindAsync(confirmed.Uscc, confirmed.Year, cancellationToken))?.Status == VerificationStatus.Accepted, cancellationToken),
            ReviewRequested = null,
            // The unit's notice of it: a new one for each figure confirmed (so 1,000 t, then 1,200 t, then 1,000 t again tells
            // all three), the same one for the same confirmation made again (a repeated request tells nothing twice).
            NoticeId = before is not null && before.ReportVersion == confirmed.ReportVersion && before.Basis == confirmed.Basis
                && before.ConfirmedEmissionsT == confirmed.ConfirmedEmissionsT
                    ? before.NoticeId ?? Notifications.NoticeTemplates.EmissionsConfirmedId(before)
                    : Notifications.NoticeTemplates.EmissionsConfirmedId(confirmed, replacing: before?.NoticeId ?? ""),
        };
        await confirmations.PutAsync(confirmed, cancellationToken);
        await audit.RecordAsync(actor, "emissions.confirmed", $"units/{confirmed.Uscc}/reports/{confirmed.Year}", before, confirmed, cancellationToken);
        // The unit learns the figure its surrender is measured against (Art. 27).
        await notices.PublishAsync(Notifications.NoticeTemplates.EmissionsConfirmed(confirmed), cancellationToken);
        return confirmed;
    }
}

/// <summary>An adjusted confirmation, once a second regulator approves it: still against the report version it was proposed on.</summary>
public sealed class AdjustedConfirmationApproval(ReportStore reports, EmissionConfirmations confirmations, TimeProvider clock) : ApprovableAction<ConfirmedEmissions>
{
    public const string KindName = "emissions.adjusted-confirmation";

    public override string Kind => KindName;

    protected override async Task<ActionOutcome> ExecuteAsync(Proposal proposal, ConfirmedEmissions confirmed, Actor approver, CancellationToken cancellationToken)
    {
        var latest = await reports.FindLatestAsync(confirmed.Uscc, confirmed.Year, cancellationToken);
        if (latest?.Version != confirmed.ReportVersion)
        {
            return ActionOutcome.Failed($"Unit {confirmed.Uscc} has filed report version {latest?.Version} since this was proposed on version {confirmed.ReportVersion}; propose again against the latest version.");
        }
        await confirmations.SaveAsync(confirmed with { ConfirmedAt = clock.GetUtcNow(), ConfirmedBy = approver.Id }, approver, cancellationToken);
        return ActionOutcome.Executed($"{confirmed.Uscc}'s {confirmed.Year} emissions confirmed as {confirmed.ConfirmedEmissionsT.Value} t (adjusted)");
    }
}
