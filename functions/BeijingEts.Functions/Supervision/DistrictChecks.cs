using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Supervision;

/// <summary>What a district bureau checks (Art. 9 para 1, Art. 23 para 2).</summary>
public static class CheckKinds
{
    /// <summary>The changes in the district's units between the previous year's list and the new one.</summary>
    public const string ListChanges = "list-changes";
    /// <summary>A key unit's data for a month and its supporting materials.</summary>
    public const string MonthlyData = "monthly-data";
    /// <summary>The preliminary check (初步检查) of a key unit's accepted verification.</summary>
    public const string Verification = "verification";
    /// <summary>A general reporting unit's annual report.</summary>
    public const string GeneralReport = "general-report";
    /// <summary>A merger, split or rename registered after its 20-working-day deadline (Art. 8): the district follows it up.</summary>
    public const string LateChange = "late-change";

    public static readonly string[] All = [ListChanges, MonthlyData, Verification, GeneralReport, LateChange];

    /// <summary>Kinds with no data of the unit's to correct: the district records and signs off.</summary>
    public static bool TakesCorrections(string kind) => kind is MonthlyData or Verification or GeneralReport;
}

public static class CheckStatus
{
    public const string Open = "open";
    public const string Closed = "closed";
}

public static class CheckOutcomes
{
    public const string Passed = "passed";
    public const string IssuesFound = "issues-found";
    /// <summary>What a confirmation records while the district has not signed its check off.</summary>
    public const string Pending = "pending";
}

/// <summary>
/// A finding on a check: the district's (a text, or "none" when it found nothing), or one the platform made holding the
/// data against the unit's approved data-quality control plan (source "quality-plan"). Round counts the check's openings.
/// </summary>
public sealed record CheckFinding(int Number, string Source, string Text, bool None, int Round, int? Revision, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>A district's request that the unit correct its data, answered by the next revision the unit files.</summary>
public sealed record CorrectionRequest(int Number, string Text, DateOnly DueOn, string RequestedBy, DateTimeOffset RequestedAt, int? AnsweredByRevision = null,
    DateTimeOffset? AnsweredAt = null);

/// <summary>The district's sign-off of one round of a check.</summary>
public sealed record CheckSignOff(string Outcome, string? Note, string SignedBy, DateTimeOffset SignedAt, int Round);

/// <summary>One change in a district's units between two lists (Art. 9 para 1).</summary>
public sealed record ListChange(string Uscc, string Change, string Detail);

/// <summary>
/// One item of a district's work queue: what it checks (kind, unit, year, month), where it stands, what was found, what
/// the unit was asked to correct, and by when the district is due to finish it (in working days from its opening).
/// <see cref="Revision"/> is the revision, report version or list revision being checked. A list-changes check counts
/// its changes by kind; the changes themselves are a document of their own, shown when the check is read alone.
/// </summary>
public sealed record DistrictCheck(
    string CheckId, string Kind, string District, string? Unit, int Year, int? Month, string Status, IReadOnlyList<CheckFinding> Findings,
    IReadOnlyList<CorrectionRequest> CorrectionRequests, DateOnly OpenedOn, DateOnly DueOn, int Round, int? Revision, string Subject,
    CheckSignOff? SignOff = null, IReadOnlyDictionary<string, int>? ChangeCounts = null, string? ReviewRequested = null, bool Overdue = false,
    IReadOnlyList<ListChange>? Changes = null)
{
    public string? Outcome => Status == CheckStatus.Closed ? SignOff?.Outcome : null;
}

/// <summary>A check's id: the district's code, the kind, the year (and month), and the unit or list revision.</summary>
public static class CheckIds
{
    /// <summary>A district as a short code: its place in <see cref="Districts.All"/>, D01 to D17.</summary>
    public static string DistrictCode(string district)
    {
        var index = Districts.All.ToList().IndexOf(district);
        return index < 0 ? throw new ArgumentException($"'{district}' is not a Beijing district.", nameof(district)) : $"D{index + 1:D2}";
    }

    public static string? DistrictOf(string checkId)
    {
        if (checkId.Length < 4 || checkId[0] != 'D' || checkId[3] != '-' || !int.TryParse(checkId.AsSpan(1, 2), out var n) || n < 1 || n > Districts.All.Count) return null;
        return Districts.All[n - 1];
    }

    public static string For(string kind, string district, int year, int? month, string who) =>
        $"{DistrictCode(district)}-{kind}-{year:D4}{(month is { } m ? $"-{m:D2}" : "")}-{who}";
}

/// <summary>
/// The checks table: a partition per district (its work queue, read as one partition), a row per check keyed by its
/// id; Status, Kind, Year and Unit are columns too, so a queue is filtered in the query.
/// </summary>
public sealed class DistrictCheckStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Checks);

    private BlobContainerClient Documents => storage.Container(StorageNames.Containers.DistrictChecks);

    private static TableEntity Entity(DistrictCheck check)
    {
        var entity = DocumentRows.Entity(CheckIds.DistrictCode(check.District), check.CheckId, check with { Overdue = false, Changes = null });
        entity["Status"] = check.Status;
        entity["Kind"] = check.Kind;
        entity["Year"] = check.Year;
        entity["Unit"] = check.Unit ?? "";
        return entity;
    }

    /// <summary>Writes a list-changes check's changes once (a list revision's changes never change): however many, one document.</summary>
    public async Task PutChangesAsync(string checkId, IReadOnlyList<ListChange> changes, CancellationToken cancellationToken)
    {
        try
        {
            await Documents.GetBlobClient(checkId + ".json").UploadAsync(BinaryData.FromObjectAsJson(changes, DocumentRows.Json), overwrite: false, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            // written by an earlier run of the same publication
        }
    }

    public async Task<IReadOnlyList<ListChange>> ChangesAsync(string checkId, CancellationToken cancellationToken)
    {
        var blob = Documents.GetBlobClient(checkId + ".json");
        if (!await blob.ExistsAsync(cancellationToken)) return [];
        return (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToObjectFromJson<List<ListChange>>(DocumentRows.Json) ?? [];
    }

    public async Task<(DistrictCheck Check, ETag ETag)?> FindAsync(string checkId, CancellationToken cancellationToken)
    {
        if (CheckIds.DistrictOf(checkId) is not { } district) return null;
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(CheckIds.DistrictCode(district), checkId, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<DistrictCheck>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>A district's checks, filtered in the query by status, kind, year and unit where given.</summary>
    public Task<IReadOnlyList<DistrictCheck>> ListAsync(string district, string? status, string? kind, int? year, string? unit, CancellationToken cancellationToken) =>
        Table.QueryDocumentsAsync<DistrictCheck>(CheckIds.DistrictCode(district), [("Status", status), ("Kind", kind), ("Year", year), ("Unit", unit)], cancellationToken);

    /// <summary>
    /// Changes the check (adds it when <paramref name="change"/> is given none) under its ETag, again on a concurrent
    /// write; returns the check before and after, or after null when <paramref name="change"/> declined.
    /// </summary>
    public async Task<(DistrictCheck? Before, DistrictCheck? After)> UpdateAsync(string checkId, Func<DistrictCheck?, DistrictCheck?> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            var found = await FindAsync(checkId, cancellationToken);
            var after = change(found?.Check);
            if (after is null) return (found?.Check, null);
            if (await Table.TryWriteAsync(Entity(after), found?.ETag, cancellationToken)) return (found?.Check, after);
        }
    }
}

public sealed record CheckSettings(int DueWorkingDays)
{
    public static CheckSettings From(IConfiguration configuration)
    {
        var days = configuration.GetValue("Ets:Supervision:CheckDueWorkingDays", 10);
        return days is >= 1 and <= 60 ? new CheckSettings(days) : throw new InvalidOperationException($"Ets:Supervision:CheckDueWorkingDays is {days}; give 1 to 60 working days.");
    }
}

/// <summary>
/// Opens and refreshes district checks as their input arrives: a monthly revision, an accepted verification, a general
/// reporting unit's report, a published list. Each is idempotent: the same input again changes nothing.
/// </summary>
public sealed class DistrictCheckService(
    DistrictCheckStore store, UnitStore units, CalendarService calendar, CheckSettings settings, ConfirmationStore confirmations, PlanFindings planFindings,
    AuditLog audit, TimeProvider clock)
{
    private static readonly Actor Platform = Actor.System("district-checks");

    /// <summary>
    /// The due day, counted on the holiday calendar. Late in a year the count can run into one whose calendar the State
    /// Council has not published yet: rather than refuse the unit's data, it is counted on weekdays there, and may come a
    /// holiday early (a work queue's due day, not a legal deadline).
    /// </summary>
    public async Task<DateOnly> DueOnAsync(CancellationToken cancellationToken)
    {
        var today = BeijingTime.Today(clock);
        try
        {
            return (await calendar.GetAsync(cancellationToken)).AddWorkingDays(today, settings.DueWorkingDays);
        }
        catch (Domain.Calendar.CalendarYearMissingException)
        {
            var day = today;
            for (var left = settings.DueWorkingDays; left > 0;)
            {
                day = day.AddDays(1);
                if (day.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)) left--;
            }
            return day;
        }
    }

    /// <summary>The check as read now: overdue when still open after its due day.</summary>
    public DistrictCheck View(DistrictCheck check) => check with { Overdue = check.Status == CheckStatus.Open && check.DueOn < BeijingTime.Today(clock) };

    /// <summary>A key unit's monthly revision: opens the month's check (or reopens a signed-off one), answers open correction requests, and adds the plan's findings.</summary>
    public async Task MonthlyRevisionAsync(MonthlyRecord record, string district, CancellationToken cancellationToken)
    {
        var year = int.Parse(record.Month[..4], System.Globalization.CultureInfo.InvariantCulture);
        var month = int.Parse(record.Month[5..], System.Globalization.CultureInfo.InvariantCulture);
        var findings = await planFindings.ForMonthAsync(record, year, month, cancellationToken);
        await RevisionAsync(CheckIds.For(CheckKinds.MonthlyData, district, year, month, record.Uscc), CheckKinds.MonthlyData, district, record.Uscc, year, month,
            record.Revision, $"monthly data {record.Month}, revision {record.Revision}", findings, cancellationToken);
    }

    /// <summary>
    /// A general reporting unit's report version: opens or refreshes its check. A key unit's version answers a correction
    /// asked on its verification check, if its district ever asked for one (<paramref name="correctionsAsked"/>, from the report's head).
    /// </summary>
    public async Task ReportFiledAsync(string uscc, string district, int year, int version, bool general, bool correctionsAsked, CancellationToken cancellationToken)
    {
        if (general)
        {
            await RevisionAsync(CheckIds.For(CheckKinds.GeneralReport, district, year, null, uscc), CheckKinds.GeneralReport, district, uscc, year, null, version,
                $"annual report {year}, version {version}", [], cancellationToken);
            return;
        }
        if (!correctionsAsked) return;
        var now = clock.GetUtcNow();
        var (before, after) = await store.UpdateAsync(CheckIds.For(CheckKinds.Verification, district, year, null, uscc),
            check => check is null || check.CorrectionRequests.All(r => r.AnsweredByRevision is not null) ? null : check with { CorrectionRequests = Answer(check.CorrectionRequests, version, now) },
            cancellationToken);
        if (after is not null) await audit.RecordAsync(Platform, "check.correction-answered", $"checks/{after.CheckId}", before, after, cancellationToken);
    }

    /// <summary>An accepted verification of a key unit: opens its preliminary check, with the annual report's findings against the plan.</summary>
    public async Task VerificationAcceptedAsync(string uscc, int year, int reportVersion, string engagement, CancellationToken cancellationToken)
    {
        if (await units.FindAsync(uscc, cancellationToken) is not { } unit) return;
        var findings = await planFindings.ForReportAsync(uscc, year, reportVersion, cancellationToken);
        await RevisionAsync(CheckIds.For(CheckKinds.Verification, unit.Unit.District, year, null, uscc), CheckKinds.Verification, unit.Unit.District, uscc, year, null,
            reportVersion, $"verification {engagement} of annual report {year}, version {reportVersion}", findings, cancellationToken);
    }

    /// <summary>
    /// A published list: each district with units on it or on the previous year's list gets a check of the changes
    /// (joined, removed, category changed, renamed, merged or split), to confirm and report to the regulator.
    /// </summary>
    public async Task ListPublishedAsync(ListRevision revision, IReadOnlyList<ListEntry> entries, IReadOnlyList<ListEntry>? previous,
        IReadOnlyDictionary<string, UnitRecord> registry, CancellationToken cancellationToken)
    {
        var changes = ListChanges(entries, previous ?? [], registry);
        var districts = entries.Select(e => e.District).Concat((previous ?? []).Select(e => e.District)).Where(Districts.IsKnown).Distinct().Order(StringComparer.Ordinal);
        var dueOn = await DueOnAsync(cancellationToken);
        foreach (var district in districts)
        {
            var id = CheckIds.For(CheckKinds.ListChanges, district, revision.Year, null, $"r{revision.Revision}");
            var mine = changes.Where(c => c.District == district).Select(c => c.Change).ToList();
            await store.PutChangesAsync(id, mine, cancellationToken);
            var counts = mine.GroupBy(c => c.Change, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var (_, opened) = await store.UpdateAsync(id, check => check is not null ? null : new DistrictCheck(id, CheckKinds.ListChanges, district, null, revision.Year, null,
                CheckStatus.Open, [], [], BeijingTime.Today(clock), dueOn, 1, revision.Revision,
                $"changes in the district's units from the {revision.Year - 1} list to the {revision.Year} list, revision {revision.Revision}", ChangeCounts: counts), cancellationToken);
            if (opened is not null) await audit.RecordAsync(Platform, "check.opened", $"checks/{id}", null, new { opened.Kind, opened.Year, opened.DueOn, Changes = mine.Count }, cancellationToken);
        }
    }

    /// <summary>A change registered after its Art. 8 deadline: a follow-up on the unit's district's queue.</summary>
    public async Task LateChangeAsync(string uscc, string district, string changeId, string kind, DateOnly registeredOn, DateOnly deadline, CancellationToken cancellationToken)
    {
        var id = CheckIds.For(CheckKinds.LateChange, district, registeredOn.Year, null, $"{uscc}-{changeId[..8]}");
        var dueOn = await DueOnAsync(cancellationToken);
        var today = BeijingTime.Today(clock);
        var (_, opened) = await store.UpdateAsync(id, check => check is not null ? null : new DistrictCheck(id, CheckKinds.LateChange, district, uscc, registeredOn.Year, null,
            CheckStatus.Open, [], [], today, dueOn, 1, null,
            $"{kind} {changeId} took effect {registeredOn:yyyy-MM-dd} and was registered {today:yyyy-MM-dd}, after its deadline of {deadline:yyyy-MM-dd} (20 working days, Art. 8)"),
            cancellationToken);
        if (opened is not null) await audit.RecordAsync(Platform, "check.opened", $"checks/{id}", null, new { opened.Kind, opened.Unit, opened.DueOn, changeId }, cancellationToken);
    }

    /// <summary>The changes between two lists, each with the district it is reported by (the new list's, else the old one's).</summary>
    public static IReadOnlyList<(string District, ListChange Change)> ListChanges(IReadOnlyList<ListEntry> entries, IReadOnlyList<ListEntry> previous,
        IReadOnlyDictionary<string, UnitRecord> registry)
    {
        var before = previous.ToDictionary(e => e.Uscc, StringComparer.Ordinal);
        var now = entries.ToDictionary(e => e.Uscc, StringComparer.Ordinal);
        var changes = new List<(string, ListChange)>();
        foreach (var entry in entries)
        {
            if (!before.TryGetValue(entry.Uscc, out var old))
            {
                changes.Add((entry.District, new ListChange(entry.Uscc, "joined", $"{entry.Name} joins as a {entry.Category} unit.")));
                continue;
            }
            if (old.Category != entry.Category) changes.Add((entry.District, new ListChange(entry.Uscc, "category-changed", $"{old.Category} → {entry.Category}")));
            if (old.Name != entry.Name) changes.Add((entry.District, new ListChange(entry.Uscc, "renamed", $"{old.Name} → {entry.Name}")));
            if (old.District != entry.District) changes.Add((entry.District, new ListChange(entry.Uscc, "moved-district", $"{old.District} → {entry.District}")));
        }
        foreach (var old in previous.Where(e => !now.ContainsKey(e.Uscc)))
        {
            var unit = registry.GetValueOrDefault(old.Uscc);
            var change = unit?.Status == UnitStatus.Succeeded
                ? new ListChange(old.Uscc, "merged", $"{old.Name} succeeded by {string.Join(", ", unit.Successors ?? [])} (Art. 8).")
                : new ListChange(old.Uscc, "removed", $"{old.Name} is not on the new list{(unit?.Status == UnitStatus.Removed ? " (removed, Art. 9)" : "")}.");
            changes.Add((old.District, change));
        }
        return changes;
    }

    /// <summary>
    /// The state a confirmation records: the check's outcome once signed off, "pending" while it is open (or, just after
    /// the verification was accepted, not yet opened), null when there is no accepted verification to check.
    /// </summary>
    public async Task<string?> ConfirmationStateAsync(string uscc, string district, int year, bool verificationAccepted, CancellationToken cancellationToken) =>
        (await store.FindAsync(CheckIds.For(CheckKinds.Verification, district, year, null, uscc), cancellationToken))?.Check is { } check
            ? check.Outcome ?? CheckOutcomes.Pending
            : verificationAccepted ? CheckOutcomes.Pending : null;

    /// <summary>
    /// A district finding on a verification check after the unit's emissions were confirmed: the confirmation is marked
    /// for the regulator's review (its figure is not changed) and the regulator is told through the audit trail.
    /// </summary>
    public async Task FindingAfterConfirmationAsync(DistrictCheck check, CheckFinding finding, CancellationToken cancellationToken)
    {
        if (check.Kind != CheckKinds.Verification || finding.None || check.Unit is null) return;
        var review = $"Finding {finding.Number} of check {check.CheckId} ({finding.RecordedAt:yyyy-MM-dd}) came after this confirmation: {finding.Text}";
        if (await confirmations.UpdateAsync(check.Year, check.Unit, c => c with { ReviewRequested = review }, cancellationToken) is { } changed)
        {
            await audit.RecordAsync(Platform, "confirmation.review-requested", $"units/{check.Unit}/reports/{check.Year}", changed.Before, new { review }, cancellationToken);
        }
    }

    /// <summary>Opens the check for a new revision of its input, or refreshes it: answers open correction requests and reopens it if it was signed off.</summary>
    private async Task RevisionAsync(string id, string kind, string district, string uscc, int year, int? month, int revision, string subject,
        IReadOnlyList<string> planTexts, CancellationToken cancellationToken)
    {
        var dueOn = await DueOnAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var today = BeijingTime.Today(clock);
        var (before, after) = await store.UpdateAsync(id, check =>
        {
            if (check is not null && check.Revision >= revision) return null;
            var round = check is null ? 1 : check.Status == CheckStatus.Closed ? check.Round + 1 : check.Round;
            // The platform's findings of a round are the latest revision's: an earlier revision's are replaced, so a
            // month filed many times does not grow the check without end.
            var findings = (check?.Findings ?? []).Where(f => !(f.Source == "quality-plan" && f.Round == round)).ToList();
            var next = (check?.Findings ?? []).Select(f => f.Number).DefaultIfEmpty(0).Max();
            foreach (var text in planTexts) findings.Add(new CheckFinding(++next, "quality-plan", text, false, round, revision, Platform.Id, now));
            return check is null
                ? new DistrictCheck(id, kind, district, uscc, year, month, CheckStatus.Open, findings, [], today, dueOn, round, revision, subject)
                : check with
                {
                    Status = CheckStatus.Open, Findings = findings, CorrectionRequests = Answer(check.CorrectionRequests, revision, now), Round = round, Revision = revision,
                    Subject = subject, OpenedOn = check.Status == CheckStatus.Closed ? today : check.OpenedOn, DueOn = check.Status == CheckStatus.Closed ? dueOn : check.DueOn,
                };
        }, cancellationToken);
        if (after is null) return;
        var action = before is null ? "check.opened" : before.Status == CheckStatus.Closed ? "check.reopened" : "check.revision-received";
        await audit.RecordAsync(Platform, action, $"checks/{id}", before, new { after.Kind, after.Revision, after.Round, after.DueOn, PlanFindings = planTexts.Count }, cancellationToken);
    }

    private static IReadOnlyList<CorrectionRequest> Answer(IReadOnlyList<CorrectionRequest> requests, int revision, DateTimeOffset now) =>
        requests.Select(r => r.AnsweredByRevision is null ? r with { AnsweredByRevision = revision, AnsweredAt = now } : r).ToList();
}
