using System.Security.Claims;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Supervision;

/// <summary>What a case is opened from (Art. 23, 25, 29, 30).</summary>
public static class CaseSources
{
    /// <summary>The year's frozen non-compliant list: opened automatically at assessment, one case per unit and year.</summary>
    public const string NonCompliance = "non-compliance";
    public const string SurveillanceFlag = "surveillance-flag";
    public const string FlaggedVerification = "flagged-verification";
    public const string DistrictFinding = "district-finding";
    /// <summary>A verification body's report of an Art. 9 situation about a unit it verifies (Art. 25 para 2).</summary>
    public const string VerifierReport = "verifier-report";
    public const string Manual = "manual";

    public static readonly string[] All = [NonCompliance, SurveillanceFlag, FlaggedVerification, DistrictFinding, VerifierReport, Manual];
}

/// <summary>Who a case is against.</summary>
public static class PartyKinds
{
    public const string Unit = "unit";
    public const string Participant = "participant";
    public const string Verifier = "verifier";
    /// <summary>A laboratory named in test reports; it has no account here, so it is named, not identified.</summary>
    public const string Laboratory = "laboratory";

    public static readonly string[] All = [Unit, Participant, Verifier, Laboratory];
}

public static class CaseStatus
{
    /// <summary>Proposed by a district bureau or reported by a verification body; the regulator accepts it to open it.</summary>
    public const string Proposed = "proposed";
    public const string Open = "open";
    public const string Closed = "closed";
}

public static class CaseOutcomes
{
    public const string NoViolation = "no-violation";
    public const string OrderToCorrect = "order-to-correct";
    public const string Penalty = "penalty";

    public static readonly string[] All = [NoViolation, OrderToCorrect, Penalty];
}

public sealed record CaseParty(string Kind, string Id);

/// <summary>
/// A request to the party for documents by a deadline; the party answers with uploads through links. A request past its
/// deadline with nothing received marks the party as not cooperating (Art. 33).
/// </summary>
public sealed record DocumentRequest(int Number, string Text, DateOnly DueOn, string RequestedBy, DateTimeOffset RequestedAt, bool Overdue = false,
    IReadOnlyList<ReportAttachmentEndpoints.View>? Documents = null);

/// <summary>A site inspection's record: when, by whom, what was examined and found.</summary>
public sealed record SiteInspection(int Number, DateOnly Date, IReadOnlyList<string> Inspectors, string Examined, string Findings, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>
/// The decision: no violation, an order to correct by a date, or a penalty under the applicable rules (amount and legal
/// basis as the regulator writes them: the platform invents no amounts); for a surrender shortfall, what comes off the
/// unit's allocation of <see cref="DeductFromYear"/> (the next year whose verified allocation has not run).
/// </summary>
public sealed record CaseDecision(string Outcome, string LegalBasis, string? Reasons, DateOnly? CorrectBy, string? Penalty, Tonnes? DeductT, int? DeductFromYear,
    string DecidedBy, DateTimeOffset DecidedAt);

/// <summary>A step in the case's life: opened, accepted, decided, closed, reopened (with why).</summary>
public sealed record CaseEvent(string Action, string By, DateTimeOffset At, string? Reason = null);

/// <summary>
/// An enforcement case against a unit, a participant, a verification body or a laboratory. <see cref="District"/> is the
/// party unit's district, whose bureau sees the case; <see cref="DocumentYear"/> files its answers.
/// </summary>
public sealed record EnforcementCase(
    string CaseId, string Status, CaseParty Party, string? District, string Source, string? SourceRef, int? Year, long? ShortfallT, string Summary,
    string OpenedBy, DateTimeOffset OpenedAt, int DocumentYear, IReadOnlyList<DocumentRequest> Requests, IReadOnlyList<SiteInspection> Inspections,
    CaseDecision? Decision, IReadOnlyList<CaseEvent> History, bool NotCooperating = false);

/// <summary>
/// A decided deduction, waiting for the verified allocation of <see cref="AllocationYear"/> to take it: an enforcement
/// case's for a shortfall, or the part of a granted decrease the unit could not cover (<see cref="SourceId"/> names which).
/// </summary>
public sealed record AllocationDeduction(string SourceId, string Uscc, int FromYear, int AllocationYear, Tonnes Quantity);

/// <summary>
/// The cases table: cases in one partition keyed by id (a few hundred a year, read whole for a list), with party,
/// status and district as columns for the query; deductions in a partition per allocation year, keyed by unit and case.
/// </summary>
public sealed class CaseStore(StorageClients storage)
{
    private const string Partition = "case";

    private TableClient Table => storage.Table(StorageNames.Tables.Cases);

    private static string DeductionPartition(int year) => "deduction-" + DocumentRows.YearKey(year);

    private static TableEntity Entity(EnforcementCase c)
    {
        var entity = DocumentRows.Entity(Partition, c.CaseId, c with { NotCooperating = false, Requests = c.Requests.Select(r => r with { Overdue = false, Documents = null }).ToList() });
        entity["PartyId"] = c.Party.Id;
        entity["Status"] = c.Status;
        entity["District"] = c.District ?? "";
        return entity;
    }

    public async Task<(EnforcementCase Case, ETag ETag)?> FindAsync(string caseId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, caseId, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<EnforcementCase>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>Adds the case; false when its id is taken (a non-compliance case of the unit and year exists).</summary>
    public Task<bool> TryAddAsync(EnforcementCase c, CancellationToken cancellationToken) => Table.TryWriteAsync(Entity(c), null, cancellationToken);

    /// <summary>
    /// Adds the cases a hundred to a transaction; a transaction refused because one id is taken is done case by case,
    /// so each case is added once. Returns the cases added now.
    /// </summary>
    public async Task<IReadOnlyList<EnforcementCase>> TryAddManyAsync(IReadOnlyList<EnforcementCase> cases, CancellationToken cancellationToken)
    {
        var added = new List<EnforcementCase>();
        foreach (var chunk in cases.Chunk(100))
        {
            try
            {
                await Table.SubmitTransactionAsync(chunk.Select(c => new TableTransactionAction(TableTransactionActionType.Add, Entity(c))), cancellationToken);
                added.AddRange(chunk);
            }
            catch (TableTransactionFailedException error) when (error.Status == 409)
            {
                foreach (var c in chunk)
                {
                    if (await TryAddAsync(c, cancellationToken)) added.Add(c);
                }
            }
        }
        return added;
    }

    public Task<IReadOnlyList<EnforcementCase>> ListAsync(string? partyId, string? status, string? district, CancellationToken cancellationToken) =>
        Table.QueryDocumentsAsync<EnforcementCase>(Partition, [("PartyId", partyId), ("Status", status), ("District", district)], cancellationToken);

    /// <summary>Changes the case under its ETag, again on a concurrent write; null when it is missing or <paramref name="change"/> declined.</summary>
    public async Task<EnforcementCase?> UpdateAsync(string caseId, Func<EnforcementCase, EnforcementCase?> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await FindAsync(caseId, cancellationToken) is not { } found) return null;
            if (change(found.Case) is not { } after) return null;
            if (await Table.TryWriteAsync(Entity(after), found.ETag, cancellationToken)) return after;
        }
    }

    public Task PutDeductionAsync(AllocationDeduction deduction, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DeductionPartition(deduction.AllocationYear), $"{deduction.Uscc}|{deduction.SourceId}", deduction, cancellationToken);

    public async Task DeleteDeductionAsync(int allocationYear, string uscc, string caseId, CancellationToken cancellationToken) =>
        await Table.DeleteEntityAsync(DeductionPartition(allocationYear), $"{uscc}|{caseId}", cancellationToken: cancellationToken);

    /// <summary>The deductions the year's verified allocation takes, by unit: one partition.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<AllocationDeduction>>> DeductionsAsync(int allocationYear, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<AllocationDeduction>(DeductionPartition(allocationYear), cancellationToken))
            .GroupBy(d => d.Uscc, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<AllocationDeduction>)g.ToList(), StringComparer.Ordinal);
}

/// <summary>Opens cases the platform itself finds (the non-compliant list at assessment), and shows cases as their readers see them.</summary>
public sealed class CaseService(CaseStore store, UnitStore units, ReportAttachmentStore attachments, UploadLinks links, AllocationStore allocations, AuditLog audit,
    TimeProvider clock)
{
    private static readonly Actor Assessment = Actor.System("assessment");

    public static string NonComplianceId(int year, string uscc) => $"nc-{year:D4}-{uscc}";

    /// <summary>
    /// The cases of a batch of units found short at assessment (Art. 29), one per unit and year: written a hundred to a
    /// request, and audited as one row for the batch; a case whose id is taken (the batch ran before) is left as it is.
    /// A unit off the list (a successor) takes its district from the registry.
    /// </summary>
    public async Task OpenForNonComplianceAsync(int year, IReadOnlyList<(string Uscc, long ShortfallT, string? District)> shortfalls, CancellationToken cancellationToken)
    {
        if (shortfalls.Count == 0) return;
        var now = clock.GetUtcNow();
        var opened = new List<EnforcementCase>();
        foreach (var (uscc, shortfallT, listed) in shortfalls)
        {
            var district = listed ?? (await units.FindAsync(uscc, cancellationToken))?.Unit.District;
            opened.Add(new EnforcementCase(NonComplianceId(year, uscc), CaseStatus.Open, new CaseParty(PartyKinds.Unit, uscc), district, CaseSources.NonCompliance,
                $"cycles/{year}/non-compliant", year, shortfallT, $"Surrendered {shortfallT} t short of its {year} obligation by the deadline (Art. 27, 29).", Assessment.Id, now,
                BeijingTime.Today(clock).Year, [], [], null, [new CaseEvent("opened", Assessment.Id, now)]));
        }
        var added = await store.TryAddManyAsync(opened, cancellationToken);
        if (added.Count > 0)
        {
            await audit.RecordAsync(Assessment, "cases.opened", $"cycles/{year}/non-compliant", null,
                new { year, cases = added.Select(c => new { c.CaseId, unit = c.Party.Id, c.ShortfallT }).ToList() }, cancellationToken);
        }
    }

    /// <summary>Whether the caller may see the case: the regulator, the party unit's district bureau, and the party itself.</summary>
    public static bool CanSee(ClaimsPrincipal user, EnforcementCase c)
    {
        if (user.IsInRole(Roles.Regulator)) return true;
        if (user.IsInRole(Roles.District)) return c.District is not null && UnitAccess.IsDistrictOf(user, c.District);
        // A proposal (a district's, or a verification body's Art. 25 report) is not shown to its subject until the regulator opens it.
        return c.Status != CaseStatus.Proposed && IsParty(user, c);
    }

    public static bool IsParty(ClaimsPrincipal user, EnforcementCase c) => c.Party.Kind switch
    {
        PartyKinds.Unit => UnitAccess.IsUnit(user, c.Party.Id),
        PartyKinds.Participant => user.IsInRole(Roles.Participant) && string.Equals(user.FindFirstValue(EtsClaims.ParticipantId), c.Party.Id, StringComparison.OrdinalIgnoreCase),
        PartyKinds.Verifier => user.IsInRole(Roles.Verifier) && string.Equals(user.FindFirstValue(EtsClaims.VerifierId), c.Party.Id, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    /// <summary>
    /// The case as read now: each request with its documents and whether it is past its deadline with nothing received,
    /// and the party marked as not cooperating when one is (Art. 33).
    /// </summary>
    public async Task<EnforcementCase> ViewAsync(EnforcementCase c, bool withDocuments, CancellationToken cancellationToken)
    {
        var answers = c.Requests.Count == 0 ? [] : (await attachments.ListAsync(c.Party.Id, c.DocumentYear, cancellationToken)).Where(a => a.For is { Kind: AttachmentFor.Case } f && f.Id == c.CaseId).ToList();
        var today = BeijingTime.Today(clock);
        var requests = new List<DocumentRequest>();
        foreach (var request in c.Requests)
        {
            var mine = answers.Where(a => a.For!.Item == request.Number).ToList();
            var overdue = request.DueOn < today && !mine.Any(a => a.Status == AttachmentStatus.Received && a.ReceivedAt is { } at && BeijingTime.DateOf(at) <= request.DueOn);
            requests.Add(request with { Overdue = overdue, Documents = withDocuments ? await ReportAttachmentEndpoints.ViewsAsync(mine, links, cancellationToken) : null });
        }
        return c with { Requests = requests, NotCooperating = requests.Any(r => r.Overdue) };
    }

    /// <summary>Whether the unit's verified allocation of <paramref name="year"/> has run, and so taken the deductions it was given.</summary>
    public async Task<bool> DeductionTakenAsync(string uscc, int year, CancellationToken cancellationToken) =>
        (await allocations.FindAsync(year, uscc, cancellationToken))?.Verified is not null;

    /// <summary>The first allocation year after <paramref name="year"/> whose verified allocation has not yet run for the unit: where a deduction goes.</summary>
    public async Task<int> DeductionYearAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var target = year + 1;
        while ((await allocations.FindAsync(target, uscc, cancellationToken))?.Verified is not null) target++;
        return target;
    }
}
