using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Surrender;

public enum SurrenderItemState
{
    Pending,
    Completed,
    Rejected,
}

/// <summary>One line of a surrender: its own ledger transaction, and where that stands.</summary>
public sealed record SurrenderItem(string LedgerTransactionId, string Product, int Vintage, string? Lot, Tonnes Quantity, SurrenderItemState State, string? Reason)
{
    public bool IsOffset => Products.HasLots(Product);
}

/// <summary>One surrender as the unit sent it, under its transactionId (the idempotency key).</summary>
public sealed record SurrenderSubmission(string TransactionId, DateTimeOffset SubmittedAt, string SubmittedBy, IReadOnlyList<SurrenderItem> Items);

/// <summary>Everything a unit has surrendered for one compliance year (Art. 27-28).</summary>
public sealed record SurrenderRecord(string Uscc, int Year, IReadOnlyList<SurrenderSubmission> Submissions, DateTimeOffset UpdatedAt)
{
    public IEnumerable<SurrenderItem> Items => Submissions.SelectMany(s => s.Items);

    public long Sum(SurrenderItemState state, bool offsets) => Items.Where(i => i.State == state && i.IsOffset == offsets).Sum(i => i.Quantity.Value);

    /// <summary>Surrendered or on its way: what counts against the obligation and the offset limit.</summary>
    public long Claimed(bool? offsets = null) => Items.Where(i => i.State != SurrenderItemState.Rejected && (offsets is null || i.IsOffset == offsets)).Sum(i => i.Quantity.Value);
}

/// <summary>The surrenders table: partition {yyyy}, a row per unit, changed under its ETag.</summary>
public sealed class SurrenderStore(StorageClients storage, TransactionStore transactions, LedgerSubmitter submitter, NoticeOutbox notices)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Surrenders);

    public async Task<(SurrenderRecord? Record, ETag? ETag)> FindAsync(int year, string uscc, CancellationToken cancellationToken)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(DocumentRows.YearKey(year), uscc, cancellationToken: cancellationToken);
        return found.HasValue ? (DocumentRows.Read<SurrenderRecord>(found.Value!), found.Value!.ETag) : (null, null);
    }

    /// <summary>The named units' surrender records for the year, by unit: one range query.</summary>
    public Task<IReadOnlyDictionary<string, SurrenderRecord>> FindManyAsync(int year, IReadOnlyCollection<string> units, CancellationToken cancellationToken) =>
        Table.ReadRowsAsync<SurrenderRecord>(DocumentRows.YearKey(year), units, cancellationToken);

    public async Task<IReadOnlyList<SurrenderRecord>> ReadYearAsync(int year, CancellationToken cancellationToken) =>
        await Table.ReadPartitionAsync<SurrenderRecord>(DocumentRows.YearKey(year), cancellationToken);

    /// <summary>Writes the record: added when <paramref name="etag"/> is null, else replaced if unchanged since read. False if someone else wrote first.</summary>
    public Task<bool> SaveAsync(SurrenderRecord record, ETag? etag, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(DocumentRows.Entity(DocumentRows.YearKey(record.Year), record.Uscc, record), etag, cancellationToken);

    /// <summary>
    /// The record as it stands, each pending item shown with the outcome its ledger transaction has recorded, read
    /// together with the item it belongs to. Writes nothing: what a GET shows (<see cref="SettleAsync"/> writes it back).
    /// </summary>
    public async Task<SurrenderRecord> ViewAsync(SurrenderRecord record, CancellationToken cancellationToken) =>
        (await WithOutcomesAsync(record, submitMissing: false, cancellationToken)).Record;

    /// <summary>
    /// The record with each pending item's ledger outcome filled in (written back when any changed). An item whose ledger
    /// transaction is missing (the process stopped between recording the surrender and submitting it) is submitted now.
    /// </summary>
    public async Task<SurrenderRecord> SettleAsync(SurrenderRecord record, ETag? etag, CancellationToken cancellationToken)
    {
        var (updated, changed) = await WithOutcomesAsync(record, submitMissing: true, cancellationToken);
        if (!changed) return record;
        // A submission whose last item settled now is told to the unit: what went through, or that none of it did. Told
        // before the record is saved: the ledger has decided, and a save lost to a race is made by the one who won it,
        // which tells the same notice (its id is fixed), so none is lost between the two.
        var settledNow = updated.Submissions.Where(s => s.Items.All(i => i.State != SurrenderItemState.Pending)
            && record.Submissions.First(b => b.TransactionId == s.TransactionId).Items.Any(i => i.State == SurrenderItemState.Pending));
        await notices.PublishAsync(settledNow.Select(s =>
        {
            var completed = s.Items.Where(i => i.State == SurrenderItemState.Completed).Sum(i => i.Quantity.Value);
            return NoticeTemplates.Surrendered(updated.Uscc, updated.Year, s.TransactionId, new Tonnes(completed > 0 ? completed : s.Items.Sum(i => i.Quantity.Value)),
                completed > 0 ? "completed" : "rejected");
        }).ToList(), cancellationToken);
        await SaveAsync(updated, etag, cancellationToken); // a lost race only means the next sweep fills it in
        return updated;
    }

    /// <summary>Every record with an item still pending, of any year, settled as far as the ledger has: the sweep behind the GETs.</summary>
    public async Task SettlePendingAsync(CancellationToken cancellationToken)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            var record = DocumentRows.Read<SurrenderRecord>(row);
            if (record.Items.Any(i => i.State == SurrenderItemState.Pending)) await SettleAsync(record, row.ETag, cancellationToken);
        }
    }

    private async Task<(SurrenderRecord Record, bool Changed)> WithOutcomesAsync(SurrenderRecord record, bool submitMissing, CancellationToken cancellationToken)
    {
        var changed = false;
        var submissions = new List<SurrenderSubmission>();
        foreach (var submission in record.Submissions)
        {
            var items = new List<SurrenderItem>();
            foreach (var item in submission.Items)
            {
                var settled = item.State == SurrenderItemState.Pending ? await OutcomeAsync(record, submission, item, submitMissing, cancellationToken) : item;
                changed |= settled != item;
                items.Add(settled);
            }
            submissions.Add(submission with { Items = items });
        }
        return (record with { Submissions = submissions }, changed);
    }

    /// <summary>A pending item with its ledger outcome, if the transaction recorded under its id is this item's (Art. 13).</summary>
    private async Task<SurrenderItem> OutcomeAsync(SurrenderRecord record, SurrenderSubmission submission, SurrenderItem item, bool submitMissing, CancellationToken cancellationToken)
    {
        try
        {
            var recorded = await transactions.FindSameAsync(Transaction(record, submission, item), cancellationToken);
            if (recorded is null && submitMissing) await SubmitAsync(record, submission, item, cancellationToken);
            return recorded?.State switch
            {
                TransactionState.Completed => item with { State = SurrenderItemState.Completed },
                TransactionState.Rejected => item with { State = SurrenderItemState.Rejected, Reason = recorded.Reason },
                _ => item,
            };
        }
        catch (LedgerIdTakenException taken)
        {
            return item with { State = SurrenderItemState.Rejected, Reason = $"{taken.Message} Nothing was surrendered under it." };
        }
    }

    public Task SubmitAsync(SurrenderRecord record, SurrenderSubmission submission, SurrenderItem item, CancellationToken cancellationToken) =>
        submitter.SubmitAsync(Transaction(record, submission, item), cancellationToken);

    private static LedgerTransaction Transaction(SurrenderRecord record, SurrenderSubmission submission, SurrenderItem item) =>
        new(item.LedgerTransactionId, TransactionType.Surrender, record.Uscc, RegulatorAccounts.Surrender, item.Product,
            item.Vintage, item.Quantity, item.Lot, $"surrender for {record.Year}", submission.SubmittedBy, submission.SubmittedAt);
}

/// <summary>
/// Every minute: surrender items still pending get their ledger outcome written into the record (and a transaction lost
/// between recording a surrender and submitting it is submitted), so the GETs, which write nothing, show it settled.
/// </summary>
[TimerTrigger("30 * * * * *")]
public sealed class SettlePendingSurrenders(SurrenderStore surrenders) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => surrenders.SettlePendingAsync(cancellationToken);
}

public enum ComplianceStatus
{
    NoConfirmedEmissions,
    Open,
    Compliant,
    NonCompliant,
}

/// <summary>
/// Where a unit stands against its obligation for a year (Art. 27-28): its own confirmed emissions, plus what it
/// inherited from predecessors in a confirmed merger or split, less what passed to its successors (Art. 8).
/// </summary>
public sealed record ComplianceView(
    string Unit, int Year, long? ConfirmedEmissionsT, long SurrenderedAllowancesT, long SurrenderedOffsetsT, long PendingT, long? ShortfallT,
    long? OffsetLimitT, ComplianceStatus Status, DateTimeOffset? SurrenderDue, long InheritedT = 0, long PassedToSuccessorsT = 0, long? ObligationT = null)
{
    /// <summary>Art. 28: offsets count for at most 5% of the year's confirmed emissions, in whole tonnes, rounded down.</summary>
    public static long OffsetLimit(long confirmed) => confirmed * 5 / 100;

    public static ComplianceView Of(string uscc, int year, ConfirmedEmissions? confirmed, SurrenderRecord? record, CycleSchedule? schedule, DateTimeOffset now,
        SuccessionShare? succession = null)
    {
        var allowances = record?.Sum(SurrenderItemState.Completed, offsets: false) ?? 0;
        var offsets = record?.Sum(SurrenderItemState.Completed, offsets: true) ?? 0;
        var pending = (record?.Sum(SurrenderItemState.Pending, offsets: false) ?? 0) + (record?.Sum(SurrenderItemState.Pending, offsets: true) ?? 0);
        succession ??= SuccessionShare.None;
        if (confirmed is null && succession.InheritedT == 0)
        {
            return new(uscc, year, null, allowances, offsets, pending, null, null, ComplianceStatus.NoConfirmedEmissions, schedule?.SurrenderDue);
        }
        var own = confirmed?.ConfirmedEmissionsT.Value ?? 0;
        var owed = own + succession.InheritedT - succession.PassedToSuccessorsT;
        var shortfall = Math.Max(0, owed - allowances - offsets);
        var status = shortfall == 0 ? ComplianceStatus.Compliant
            : schedule is not null && now > schedule.SurrenderDue ? ComplianceStatus.NonCompliant
            : ComplianceStatus.Open;
        var offsetLimit = Math.Max(0, OffsetLimit(own) + succession.InheritedOffsetRoomT - succession.PassedOffsetRoomT);
        return new(uscc, year, confirmed?.ConfirmedEmissionsT.Value, allowances, offsets, pending, shortfall, offsetLimit, status, schedule?.SurrenderDue,
            succession.InheritedT, succession.PassedToSuccessorsT, owed);
    }
}

/// <summary>
/// POST /api/units/{uscc}/surrenders/{year} (the key unit): gives up BEA of vintages up to the year and CCER/BCER lots,
/// 1 tonne for 1 tonne, toward the year's confirmed emissions (Art. 27-28). Offsets over the whole year at most 5% of the
/// confirmed emissions; nothing beyond the obligation. Each item settles on the ledger into the surrender account (202).
/// </summary>
public sealed partial class SurrenderEndpoints : IHttpFunction
{
    public const int MaxItems = 50;

    public sealed record Item(string Product, int Vintage, Tonnes Quantity, string? Lot = null);

    public sealed record Request(string TransactionId, IReadOnlyList<Item> Items);

    public sealed record Answer(SurrenderSubmission Submission, ComplianceView Compliance);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/surrenders/{year:int}", SurrenderAsync).WithTags("Surrender");
        api.MapGet("/units/{uscc}/surrenders/{year:int}", (string uscc, int year, HttpContext http, UnitStore units, SurrenderStore surrenders, CancellationToken ct) =>
            UnitInput.ReadVisibleAsync(uscc, http.User, units, "surrenders", async code =>
            {
                var (record, _) = await surrenders.FindAsync(year, code, ct);
                return record is null ? null : await surrenders.ViewAsync(record, ct);
            }, code => $"Unit {code} has surrendered nothing for {year}.", ct)).WithTags("Surrender");
    }

    private static async Task<Results<Accepted<Answer>, ProblemHttpResult>> SurrenderAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, ConfirmationStore confirmations,
        SurrenderStore surrenders, SuccessionObligations successions, LedgerStore ledger, CycleScheduleStore schedules, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit surrenders from its own account.", cancellationToken);
        if (unit is null) return problem!;
        if (!UnitAccess.IsUnit(http.User, unit.Uscc)) return Problems.Forbidden("A unit surrenders from its own account (Art. 27).");
        var problems = Validate(request, year);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var entry = await reporting.EntryAsync(unit.Uscc, year, cancellationToken);
        // Art. 8: a successor surrenders for the obligation it inherited even if the year's list does not name it.
        var succession = await successions.ForUnitAsync(unit.Uscc, year, cancellationToken);
        if ((entry is null || entry.Category != Categories.Key) && succession.InheritedT == 0)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit on the published {year} list; key units surrender for their year (Art. 27).");
        }
        var confirmed = await confirmations.FindAsync(year, unit.Uscc, cancellationToken);
        if (confirmed is null && succession.InheritedT == 0) return Problems.Unprocessable($"Unit {unit.Uscc}'s {year} emissions are not confirmed yet; surrender is measured against the confirmed figure (Art. 27).");
        if (await schedules.FindAsync(year, cancellationToken) is { } deadline && clock.GetUtcNow() > deadline.SurrenderDue)
        {
            return Problems.Unprocessable($"The {year} surrender window closed at {deadline.SurrenderDue:O}; compliance was assessed then and any shortfall is for enforcement (Art. 29).");
        }
        var account = await ledger.ReadAccountAsync(unit.Uscc, cancellationToken);
        if (account.Suspended) return Problems.Unprocessable($"Account {unit.Uscc} is suspended ({string.Join(", ", account.Suspensions)}); it cannot surrender until the suspension is lifted.");

        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var items = request.Items.Select((item, i) => new SurrenderItem(LedgerIds.Surrender(year, unit.Uscc, request.TransactionId, i), item.Product, item.Vintage,
            item.Lot?.Trim(), item.Quantity, SurrenderItemState.Pending, null)).ToList();
        var submission = new SurrenderSubmission(request.TransactionId, now, actor.Id, items);
        while (true)
        {
            var (found, etag) = await surrenders.FindAsync(year, unit.Uscc, cancellationToken);
            if (found is not null && !ReferenceEquals(await surrenders.SettleAsync(found, etag, cancellationToken), found)) continue; // outcomes filled in: read again
            var record = found ?? new SurrenderRecord(unit.Uscc, year, [], now);
            var schedule = await schedules.FindAsync(year, cancellationToken);
            if (record.Submissions.FirstOrDefault(s => s.TransactionId == request.TransactionId) is { } earlier)
            {
                if (!SameItems(earlier, items)) return Problems.Conflict($"transactionId {request.TransactionId} was already used for a different surrender; use a new id for a new surrender.");
                foreach (var item in earlier.Items.Where(i => i.State == SurrenderItemState.Pending)) await surrenders.SubmitAsync(record, earlier, item, cancellationToken);
                return AuditLog.Replayed(http, TypedResults.Accepted($"/api/units/{unit.Uscc}/compliance/{year}", new Answer(earlier, ComplianceView.Of(unit.Uscc, year, confirmed, record, schedule, now, succession))));
            }
            if (Refusal(record, ComplianceView.Of(unit.Uscc, year, confirmed, record, schedule, now, succession), items, account) is { } refusal) return Problems.Unprocessable(refusal);

            var updated = record with { Submissions = [.. record.Submissions, submission], UpdatedAt = now };
            if (!await surrenders.SaveAsync(updated, found is null ? null : etag, cancellationToken)) continue; // another surrender got in first: check again
            foreach (var item in items) await surrenders.SubmitAsync(updated, submission, item, cancellationToken);
            await audit.RecordAsync(actor, "surrender.submitted", $"units/{unit.Uscc}/surrenders/{year}", null, submission, cancellationToken);
            return TypedResults.Accepted($"/api/units/{unit.Uscc}/compliance/{year}", new Answer(submission, ComplianceView.Of(unit.Uscc, year, confirmed, updated, schedule, now, succession)));
        }
    }

    private static List<string> Validate(Request request, int year)
    {
        var problems = new List<string>();
        if (year is < 2013 or > 2100) problems.Add($"Year {year} is out of range (2013 to 2100).");
        if (!TransactionIdPattern().IsMatch(request.TransactionId ?? "")) problems.Add("transactionId must be 1 to 60 letters, digits, '-', '_', '.' or ':'; it is your idempotency key.");
        if (request.Items.Count is 0 or > MaxItems) problems.Add($"items must list 1 to {MaxItems} lines.");
        for (var i = 0; i < Math.Min(request.Items.Count, MaxItems); i++)
        {
            var item = request.Items[i];
            if (!Products.IsKnown(item.Product)) { problems.Add($"items[{i}].product '{item.Product}' is unknown; surrender BEA, CCER or BCER."); continue; }
            if (item.Quantity.Value <= 0) problems.Add($"items[{i}].quantity is {item.Quantity.Value}; give a positive whole number of tonnes.");
            if (item.Product == Products.Bea && item.Vintage > year) problems.Add($"items[{i}] is BEA of vintage {item.Vintage}; only vintages up to {year} count for {year} (Art. 27).");
            if (item.Vintage is < 2013 or > 2100) problems.Add($"items[{i}].vintage {item.Vintage} is out of range (2013 to 2100).");
            if (Products.HasLots(item.Product) && string.IsNullOrWhiteSpace(item.Lot)) problems.Add($"items[{i}] is {item.Product}: give lot, the project and serial reference of the lot.");
            if (!Products.HasLots(item.Product) && item.Lot is not null) problems.Add($"items[{i}].lot is only for CCER and BCER.");
        }
        return problems;
    }

    /// <summary>Why the surrender cannot be taken: over the obligation, over the offset limit, or more than the account holds.</summary>
    private static string? Refusal(SurrenderRecord record, ComplianceView standing, IReadOnlyList<SurrenderItem> items, AccountState account)
    {
        var owed = standing.ObligationT ?? 0;
        var claimed = record.Claimed();
        var adding = items.Sum(i => i.Quantity.Value);
        if (claimed + adding > owed)
        {
            return $"This surrender of {adding} t would go beyond the {record.Year} obligation of {owed} t: {claimed} t are already surrendered or settling, so at most {owed - claimed} t more can be surrendered.";
        }
        var offsets = items.Where(i => i.IsOffset).Sum(i => i.Quantity.Value);
        var limit = standing.OffsetLimitT ?? 0;
        var offsetsClaimed = record.Claimed(offsets: true);
        if (offsets > 0 && offsetsClaimed + offsets > limit)
        {
            return $"Offsets (CCER, BCER) for {record.Year} may cover at most 5% of the confirmed emissions, {limit} t of the {owed} t owed (Art. 28); {offsetsClaimed} t are already surrendered or settling, so {limit - offsetsClaimed} t of offsets remain.";
        }
        foreach (var wanted in items.GroupBy(i => (i.Product, i.Vintage, i.Lot)))
        {
            var held = account.Holdings.Where(h => h.Product == wanted.Key.Product && h.Vintage == wanted.Key.Vintage && (h.Lot ?? "") == (wanted.Key.Lot ?? "")).Sum(h => h.Quantity.Value);
            var quantity = wanted.Sum(i => i.Quantity.Value);
            if (quantity > held)
            {
                var lot = wanted.Key.Lot is null ? "" : $" lot {wanted.Key.Lot}";
                return $"Account {account.AccountId} holds {held} t of {wanted.Key.Product} {wanted.Key.Vintage}{lot}, not the {quantity} t this surrender gives up.";
            }
        }
        return null;
    }

    private static bool SameItems(SurrenderSubmission earlier, IReadOnlyList<SurrenderItem> items) =>
        earlier.Items.Count == items.Count && earlier.Items.Zip(items).All(p => p.First.Product == p.Second.Product && p.First.Vintage == p.Second.Vintage
            && p.First.Lot == p.Second.Lot && p.First.Quantity == p.Second.Quantity);

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z0-9._:-]{1,60}$")]
    private static partial System.Text.RegularExpressions.Regex TransactionIdPattern();
}
