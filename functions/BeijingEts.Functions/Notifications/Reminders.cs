using BeijingEts.Domain.Calendar;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Supervision;
using BeijingEts.Functions.Surrender;

namespace BeijingEts.Functions.Notifications;

/// <summary>
/// Which deadlines are at a lead today: a deadline is <c>L</c> working days away when L working days fall after today up
/// to and including it. A deadline on a weekend or holiday is as far away as the working day before it, so it is found
/// too; the reminder's fixed id makes the weekend's runs find it sent already.
/// </summary>
public sealed record ReminderWindows(DateOnly Today, IReadOnlyList<(int Lead, DateOnly From, DateOnly Until)> Windows)
{
    /// <summary>
    /// The windows of each lead: deadlines in [today + L, today + L + 1) working days. A lead whose count runs into a year
    /// with no published calendar is left out (and named), never guessed.
    /// </summary>
    public static (ReminderWindows Windows, IReadOnlyList<int> Uncounted) For(WorkingDayCalendar calendar, DateOnly today, IReadOnlyList<int> leads)
    {
        var windows = new List<(int, DateOnly, DateOnly)>();
        var uncounted = new List<int>();
        foreach (var lead in leads)
        {
            try
            {
                windows.Add((lead, calendar.AddWorkingDays(today, lead), calendar.AddWorkingDays(today, lead + 1)));
            }
            catch (CalendarYearMissingException)
            {
                uncounted.Add(lead);
            }
        }
        return (new ReminderWindows(today, windows), uncounted);
    }

    /// <summary>The lead at which the deadline is today, or null when it is at none.</summary>
    public int? LeadOf(DateOnly due) => Windows.FirstOrDefault(w => due >= w.From && due < w.Until) is { Lead: > 0 } hit ? hit.Lead : null;

    public bool Any => Windows.Count > 0;
}

/// <summary>
/// Reminders before each deadline the platform knows, at the lead times of <see cref="NoticeSettings.ReminderLeadWorkingDays"/>,
/// to the parties that have not done the thing yet: the annual report (Art. 21), the verification (Art. 21, 24), the
/// surrender (Art. 27-28), a district's open checks and their correction requests (Art. 23), a case's document requests (Art. 33) and the objection
/// window (Art. 15). Each reminder's id is fixed by the deadline, the party and the lead, so a run repeated the same day
/// (or on the weekend after) sends nothing twice.
/// </summary>
/// <remarks>
/// Cost: the target windows are computed first, and each kind of deadline is looked at with reads that do not grow with
/// the number of units (four schedule rows, the open cases, an open-checks query per district); only a deadline that falls
/// in a window loads the records of the parties it concerns (a report head per listed unit on the three days a year the
/// report deadline is at a lead; one range query of verifications or surrenders), and the objection windows read the
/// allocation notices only in the month after a result is issued; a month's data, on the days its due day is at a lead,
/// a query per key unit.
/// </remarks>
public sealed class ReminderService(
    CalendarService calendar, NoticeSettings settings, NoticeOutbox outbox, NoticeStore notices, CycleScheduleStore schedules, PublishedListStore lists,
    ReportStore reports, VerificationStore verifications, ComplianceService compliance, DistrictCheckStore checks, CaseStore cases,
    ReportAttachmentStore attachments, AllocationStore allocations, ObjectionStore objections, MonthlyDataStore monthly, ILogger<ReminderService> logger)
{
    /// <summary>Point reads at once when a deadline needs one per unit (report heads, allocation notices).</summary>
    private const int Reads = 16;

    /// <summary>
    /// How long after an allocation result is issued its notice's receipt is looked for. The receipt starts the Art. 15
    /// window; a unit that neither got the email nor opened its inbox in this time is not reminded (its window, counted
    /// from a receipt that far out, is still open when it does read the notice).
    /// </summary>
    public const int ObjectionLookbackDays = 30;

    public sealed record Run(DateOnly Today, int Drafted, IReadOnlyList<int> UncountedLeads);

    public async Task<Run> RunAsync(DateOnly today, CancellationToken cancellationToken)
    {
        var (windows, uncounted) = ReminderWindows.For(await calendar.GetAsync(cancellationToken), today, settings.ReminderLeadWorkingDays);
        if (uncounted.Count > 0)
        {
            logger.LogWarning("Reminders at {Leads} working days from {Today} are not sent: the count runs into a year with no working-day calendar (PUT /api/calendar/{{year}}).",
                string.Join(", ", uncounted), today);
        }
        if (!windows.Any) return new Run(today, 0, uncounted);

        var drafts = new List<NoticeDraft>();
        drafts.AddRange(await CycleDeadlinesAsync(windows, cancellationToken));
        drafts.AddRange(await MonthlyDataAsync(windows, cancellationToken));
        drafts.AddRange(await ChecksAsync(windows, cancellationToken));
        drafts.AddRange(await CaseRequestsAsync(windows, cancellationToken));
        drafts.AddRange(await ObjectionWindowsAsync(windows, cancellationToken));
        // An id is made of the records' own keys; one that is not a valid key (a record written by hand) is left out, not the day's others with it.
        foreach (var invalid in drafts.Where(d => !NoticeStore.IsValidId(d.Id))) logger.LogWarning("Reminder {Id} to {Party} is not sent: its id is not a valid key.", invalid.Id, invalid.To.Key);
        var valid = drafts.Where(d => NoticeStore.IsValidId(d.Id)).ToList();
        await outbox.PublishAsync(valid, cancellationToken);
        return new Run(today, valid.Count, uncounted);
    }

    /// <summary>
    /// The year's cycle deadlines. A compliance year's dates run well into the years after it (reports and surrender come
    /// after it ends), so the schedules of the two years before this one, this one and the next are read: four point
    /// reads, and only a date at a lead loads the year's list and the records of its units.
    /// </summary>
    private async Task<IReadOnlyList<NoticeDraft>> CycleDeadlinesAsync(ReminderWindows windows, CancellationToken cancellationToken)
    {
        var drafts = new List<NoticeDraft>();
        for (var year = windows.Today.Year - 2; year <= windows.Today.Year + 1; year++)
        {
            if (await schedules.FindAsync(year, cancellationToken) is not { } schedule) continue;
            var reportLead = windows.LeadOf(BeijingTime.DateOf(schedule.ReportsDue));
            var verificationLead = windows.LeadOf(BeijingTime.DateOf(schedule.VerificationDue));
            var surrenderLead = windows.LeadOf(BeijingTime.DateOf(schedule.SurrenderDue));
            if (reportLead is null && verificationLead is null && surrenderLead is null) continue;
            if (await lists.LatestRevisionAsync(year, cancellationToken) is not { } revision) continue;
            var entries = await lists.EntriesAsync(year, revision.Revision, cancellationToken);
            var keyUnits = entries.Where(e => e.Category == Categories.Key).Select(e => e.Uscc).ToList();

            if (reportLead is { } lead)
            {
                // Art. 21: every unit on the list reports, key and general reporting units alike.
                var due = BeijingTime.DateOf(schedule.ReportsDue);
                var missing = await NotReportedAsync(year, entries.Select(e => e.Uscc).ToList(), cancellationToken);
                drafts.AddRange(missing.Select(uscc => ReminderDrafts.Report(uscc, year, due, lead)));
            }
            if (verificationLead is { } vLead)
            {
                // Art. 21 para 2, Art. 24: a key unit files an accepted verification; the body it engaged is told too.
                var due = BeijingTime.DateOf(schedule.VerificationDue);
                var records = await verifications.FindManyAsync(year, keyUnits, cancellationToken);
                foreach (var uscc in keyUnits)
                {
                    var record = records.GetValueOrDefault(uscc);
                    if (record?.Status == VerificationStatus.Accepted) continue;
                    drafts.Add(ReminderDrafts.Verification(uscc, year, due, vLead));
                    if (record is { Verifier.Length: > 0 }) drafts.Add(ReminderDrafts.VerificationForBody(record.Verifier, uscc, year, due, vLead));
                }
            }
            if (surrenderLead is { } sLead)
            {
                // Art. 27-28: a key unit that has not surrendered its confirmed emissions (or has none confirmed yet).
                var due = BeijingTime.DateOf(schedule.SurrenderDue);
                var standings = await compliance.ForUnitsAsync(keyUnits, year, cancellationToken);
                drafts.AddRange(standings.Values
                    // By what is owed, not by the status: the status is judged at the clock's now, the reminder at its day.
                    // A unit whose emissions are not confirmed yet cannot surrender (the endpoint refuses): it is not asked to.
                    .Where(v => v.ShortfallT > 0)
                    .Select(v => ReminderDrafts.Surrender(v.Unit, year, due, v.ShortfallT, sLead)));
            }
        }
        return drafts;
    }

    /// <summary>The units with no report for the year: a head-row read each, as the cycle's reporting step does, on the days the deadline is at a lead only.</summary>
    private async Task<IReadOnlyList<string>> NotReportedAsync(int year, IReadOnlyList<string> units, CancellationToken cancellationToken)
    {
        var missing = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(units, new ParallelOptions { MaxDegreeOfParallelism = Reads, CancellationToken = cancellationToken }, async (uscc, ct) =>
        {
            if (await reports.LatestVersionAsync(uscc, year, ct) == 0) missing.Add(uscc);
        });
        return missing.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Art. 21-22: a key unit's data for each month, due <see cref="NoticeSettings.MonthlyDataDueDays"/> after the month ends.
    /// Only a month whose due day is at a lead loads anything: the list of the month's year (its key units, as the
    /// monthly endpoint takes them) and each one's months of that year, one query each.
    /// </summary>
    private async Task<IReadOnlyList<NoticeDraft>> MonthlyDataAsync(ReminderWindows windows, CancellationToken cancellationToken)
    {
        var drafts = new System.Collections.Concurrent.ConcurrentBag<NoticeDraft>();
        var first = new DateOnly(windows.Today.Year, windows.Today.Month, 1);
        // The months whose due day can be at a lead: due days lie within MonthlyDataDueDays of their month's end, leads within a few months.
        for (var month = first.AddMonths(-(settings.MonthlyDataDueDays / 28 + 1)); month <= first.AddMonths(settings.ReminderLeadWorkingDays.Max() / 20); month = month.AddMonths(1))
        {
            var due = settings.MonthlyDataDue(month.Year, month.Month);
            if (windows.LeadOf(due) is not { } lead) continue;
            if (await lists.LatestRevisionAsync(month.Year, cancellationToken) is not { } revision) continue;
            var keyUnits = (await lists.EntriesAsync(month.Year, revision.Revision, cancellationToken)).Where(e => e.Category == Categories.Key).Select(e => e.Uscc);
            var (y, m) = (month.Year, month.Month);
            await Parallel.ForEachAsync(keyUnits, new ParallelOptions { MaxDegreeOfParallelism = Reads, CancellationToken = cancellationToken }, async (uscc, ct) =>
            {
                if (!(await monthly.ReadYearAsync(uscc, y, ct)).ContainsKey(m)) drafts.Add(ReminderDrafts.MonthlyData(uscc, y, m, due, lead));
            });
        }
        return drafts.ToList();
    }

    /// <summary>
    /// Art. 23 para 2: each district's open checks due at a lead, to the district; and the correction requests on them the
    /// unit has not answered with a new revision, to the unit. One query per district, filtered on status in the query.
    /// </summary>
    private async Task<IReadOnlyList<NoticeDraft>> ChecksAsync(ReminderWindows windows, CancellationToken cancellationToken)
    {
        var drafts = new List<NoticeDraft>();
        foreach (var district in BeijingEts.Domain.Lists.Districts.All)
        {
            foreach (var check in await checks.ListAsync(district, CheckStatus.Open, null, null, null, cancellationToken))
            {
                if (windows.LeadOf(check.DueOn) is { } lead) drafts.Add(ReminderDrafts.Check(check, lead));
                if (check.Unit is not { } unit) continue;
                foreach (var request in check.CorrectionRequests.Where(r => r.AnsweredByRevision is null))
                {
                    if (windows.LeadOf(request.DueOn) is { } requestLead) drafts.Add(ReminderDrafts.Correction(unit, check, request, requestLead));
                }
            }
        }
        return drafts;
    }

    /// <summary>Art. 33: an open case's document requests due at a lead that nothing has answered yet. Open cases are one filtered query.</summary>
    private async Task<IReadOnlyList<NoticeDraft>> CaseRequestsAsync(ReminderWindows windows, CancellationToken cancellationToken)
    {
        var drafts = new List<NoticeDraft>();
        foreach (var c in await cases.ListAsync(null, CaseStatus.Open, null, cancellationToken))
        {
            var due = c.Requests.Select(r => (Request: r, Lead: windows.LeadOf(r.DueOn))).Where(r => r.Lead is not null).ToList();
            if (due.Count == 0 || ReminderDrafts.CaseParty(c.Party) is not { } party) continue;
            var received = (await attachments.ListAsync(c.Party.Id, c.DocumentYear, cancellationToken))
                .Where(a => a.Status == AttachmentStatus.Received && a.For is { Kind: AttachmentFor.Case } f && f.Id == c.CaseId)
                .Select(a => a.For!.Item).ToHashSet();
            foreach (var (request, lead) in due)
            {
                if (!received.Contains(request.Number)) drafts.Add(ReminderDrafts.CaseRequest(party, c, request, lead!.Value));
            }
        }
        return drafts;
    }

    /// <summary>
    /// Art. 15: seven working days from receiving an allocation result to object. The index is the year's allocation
    /// records (one partition, read only while a result of that year was issued within <see cref="ObjectionLookbackDays"/>,
    /// as its schedule says): only their units' notices are read, one point read each, never every inbox. The window runs
    /// from the notice's receipt (its email or its first reading); a result issued before notices existed counts from the
    /// day it was issued, as the objection endpoint does.
    /// </summary>
    private async Task<IReadOnlyList<NoticeDraft>> ObjectionWindowsAsync(ReminderWindows windows, CancellationToken cancellationToken)
    {
        var drafts = new System.Collections.Concurrent.ConcurrentBag<NoticeDraft>();
        var today = windows.Today;
        var leads = windows with { Windows = windows.Windows.Where(w => w.Lead < Objection.FilingWorkingDays).ToList() };
        if (!leads.Any) return [];
        var working = await calendar.GetAsync(cancellationToken);
        IReadOnlyList<Objection>? filed = null;
        for (var year = today.Year - 1; year <= today.Year; year++)
        {
            if (await schedules.FindAsync(year, cancellationToken) is not { } schedule) continue;
            var recent = new[] { schedule.PreAllocation, schedule.VerifiedAllocation }.Select(BeijingTime.DateOf)
                .Any(d => d <= today && d >= today.AddDays(-ObjectionLookbackDays));
            if (!recent) continue;
            var issued = (await allocations.ReadYearAsync(year, cancellationToken))
                .SelectMany(a => new[] { (Allocation: a, Verified: false, On: a.PreAllocatedOn), (Allocation: a, Verified: true, On: a.VerifiedOn) })
                .Where(i => i.On is { } on && on <= today && on >= today.AddDays(-ObjectionLookbackDays))
                .ToList();
            if (issued.Count == 0) continue;
            filed ??= await objections.ListAsync(cancellationToken);
            var objected = filed;
            var y = year;
            await Parallel.ForEachAsync(issued, new ParallelOptions { MaxDegreeOfParallelism = Reads, CancellationToken = cancellationToken }, async (item, ct) =>
            {
                var unit = item.Allocation.Uscc;
                var found = await notices.FindAsync(Party.Unit(unit), ReminderDrafts.AllocationNoticeId(item.Verified, y), ct);
                DateOnly? received = found is { } n ? NoticeReceipt.Of(n.Notice, working, settings.DeemedReceiptWorkingDays)?.On : item.On;
                if (received is not { } start || start > today) return; // not received yet: its window has not begun
                DateOnly closes;
                try
                {
                    closes = working.AddWorkingDays(start, Objection.FilingWorkingDays);
                }
                catch (CalendarYearMissingException)
                {
                    return;
                }
                if (leads.LeadOf(closes) is not { } lead) return;
                if (objected.Any(o => o.Year == y && o.Uscc == unit && o.FiledOn >= start)) return;
                drafts.Add(ReminderDrafts.Objection(unit, y, item.Verified, start, closes, lead));
            });
        }
        return drafts.ToList();
    }
}

/// <summary>Daily at 08:30 Beijing time (00:30 UTC): the day's reminders (<see cref="ReminderService"/>).</summary>
[TimerTrigger("0 30 0 * * *")]
public sealed class SendReminders(ReminderService reminders, TimeProvider clock, ILogger<SendReminders> logger) : ITimerFunction
{
    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var run = await reminders.RunAsync(BeijingTime.Today(clock), cancellationToken);
        logger.LogInformation("Reminders for {Today}: {Drafted} drafted (each sent once).", run.Today, run.Drafted);
    }
}
