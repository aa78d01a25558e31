using System.Globalization;
using BeijingEts.Domain.Ledger;

namespace BeijingEts.Functions.Ledger;

public enum Leg
{
    /// <summary>Takes the quantity out of the source account.</summary>
    Debit,
    /// <summary>Puts the quantity into the target account.</summary>
    Credit,
    /// <summary>Puts a debited quantity back into the source when the credit cannot happen.</summary>
    Refund,
}

/// <summary>The decision on one leg, as recorded: applied, or refused with the reason. It is made once; a later delivery reads it.</summary>
public sealed record LegOutcome(bool Applied, string? Rejection)
{
    public static readonly LegOutcome Done = new(true, null);

    public static LegOutcome Refused(string reason) => new(false, reason);
}

public sealed record Holding(string Product, int Vintage, string? Lot, Tonnes Quantity);

public sealed record JournalLine(string TransactionId, string Leg, string Type, string Product, int Vintage, string? Lot, Tonnes Quantity, Tonnes Balance,
    string? Counterparty, string? Reference, DateTimeOffset At);

public sealed record AccountState(string AccountId, bool Suspended, IReadOnlyList<string> Suspensions, IReadOnlyList<Holding> Holdings, bool Closed = false);

/// <summary>
/// The ledger table: one partition per account holding its state row, one balance row per product, vintage and lot,
/// and one row per decided leg under the leg's key (transaction id + leg): the journal row of an applied leg, written
/// with its balance row in one entity-group transaction with ETags on what it read, or the refusal of a refused one.
/// So a leg is decided exactly once however often it is attempted (a later delivery reads the decision instead of
/// deciding again, Art. 13), and never applied on a balance or suspension that changed since it was read.
/// </summary>
public sealed class LedgerStore(StorageClients storage, TimeProvider clock, ILogger<LedgerStore> logger)
{
    /// <summary>
    /// The account's state row. Row keys name their account (the state row's, the balance rows'): Azurite finds a row by
    /// its row key first and then scans every row sharing it, so keys common to all accounts made every leg cost in
    /// proportion to the number of accounts.
    /// </summary>
    internal static string StateKey(string account) => $"account|{account}";
    private const int MaxAttempts = 200;

    private TableClient Table => storage.Table(StorageNames.Tables.Ledger);

    /// <summary>
    /// Decides one leg: applied (journal row, balance and state rows in one entity-group transaction, with ETags on what
    /// it was decided against) or refused (a refusal row), once under the leg's key. Legs asked at once on the same
    /// account are committed together (a group commit: one write for all of them, see <see cref="CommitAsync"/>), so a
    /// busy account costs a write per group instead of a contended write per leg.
    /// </summary>
    public async Task<LegOutcome> ApplyAsync(LedgerTransaction tx, Leg leg, Tonnes? issuanceCap, CancellationToken cancellationToken)
    {
        var account = leg == Leg.Credit ? tx.To : tx.From!;
        var pending = new PendingLeg(tx, leg, issuanceCap);
        while (!_groups.GetOrAdd(account, a =>
               {
                   // Counting the dictionary takes all its locks: only every so many new accounts.
                   if (Interlocked.Increment(ref _groupsMade) % 1024 == 0 && _groups.Count > MaxGroups) RetireIdleGroups();
                   return new AccountGroup(a, this);
               }).Commits.TryAdd(pending))
        {
            // Dropped as idle a moment ago: take the one that replaces it.
        }
        // The leg is decided whether or not this caller still waits (asking again reads the decision); a failure nobody
        // waits for any more is observed here, not left to the finalizer.
        _ = pending.Outcome.Task.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return await pending.Outcome.Task.WaitAsync(cancellationToken);
    }

    /// <summary>A leg waiting for its account's next commit.</summary>
    private sealed record PendingLeg(LedgerTransaction Tx, Leg Leg, Tonnes? IssuanceCap)
    {
        public TaskCompletionSource<LegOutcome> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Account => Leg == Leg.Credit ? Tx.To : Tx.From!;

        public string Key => JournalKey(Tx.TransactionId, Leg);

        public string BalanceRowKey => BalanceKey(Account, Tx.Product, Tx.Vintage, Tx.Lot);

        public bool Issues => Tx.Type == TransactionType.Issuance && Leg == Leg.Credit;
    }

    /// <summary>
    /// One account's legs waiting to be committed (at most one commit at a time per account in this instance), and the account's rows as this instance last read or wrote them (null: known to be absent), with
    /// their ETags: a write conditional on an ETag fails if anyone else wrote the row since, so a stale row costs a retry,
    /// never a wrong balance. Only the committing task touches <see cref="Known"/>.
    /// </summary>
    private sealed class AccountGroup
    {
        public AccountGroup(string account, LedgerStore store) => Commits = new(LegsPerCommit, legs => store.CommitAsync(account, this, legs), (legs, error) =>
        {
            Known.Clear();
            foreach (var leg in legs) leg.Outcome.TrySetException(error);
        });

        public GroupCommit<PendingLeg> Commits { get; }

        public Dictionary<string, TableEntity?> Known { get; } = new(StringComparer.Ordinal);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AccountGroup> _groups = new(StringComparer.Ordinal);

    /// <summary>Accounts whose rows this instance keeps; beyond it the idle ones are dropped (their rows are read again on next use).</summary>
    private const int MaxGroups = 20_000;

    private long _groupsMade;

    /// <summary>Legs in one commit: with a state row and up to a balance and an issued row each, within the 100 actions of an entity-group transaction.</summary>
    private const int LegsPerCommit = 32;

    private void RetireIdleGroups()
    {
        foreach (var (account, group) in _groups)
        {
            if (group.Commits.TryRetire()) _groups.TryRemove(new KeyValuePair<string, AccountGroup>(account, group));
        }
    }

    /// <summary>
    /// Decides the legs in the order they were asked, each against the balance the ones before it left, and writes every
    /// decision with the account's changed rows in one entity-group transaction. The rows come from what this instance
    /// knows (read on first use, then kept from the ETags each write returns), so a steady stream of legs on an account
    /// costs one write per commit and no reads. A leg decided before (a redelivery) makes its journal row's Add fail:
    /// its recorded decision is read and stands. A refusal is final, so it is only ever made on rows read just now.
    /// </summary>
    private async Task CommitAsync(string account, AccountGroup group, IReadOnlyList<PendingLeg> asked)
    {
        // The same leg asked twice at once (two deliveries of one message) is decided once, for both.
        var legs = asked.GroupBy(l => l.Key, StringComparer.Ordinal).Select(same => same.ToList()).ToList();
        var stateKey = StateKey(account);
        for (var attempt = 1; legs.Count > 0; attempt++)
        {
            if (attempt > MaxAttempts)
            {
                logger.LogWarning("Legs on {Account} lost {Attempts} races in a row", account, MaxAttempts);
                throw new InvalidOperationException($"Account {account} is too busy to apply {legs[0][0].Tx.TransactionId} now; the message will be retried.");
            }
            var keys = new HashSet<string>(StringComparer.Ordinal) { stateKey };
            foreach (var same in legs)
            {
                keys.Add(same[0].BalanceRowKey);
                if (same[0].Issues) keys.Add(IssuedKey(same[0].Tx.Vintage));
            }
            var missing = keys.Where(k => !group.Known.ContainsKey(k)).ToList();
            // An account this instance has not seen, asked only for credits (an allocation to a unit's new account, most
            // often), is first taken to have no rows: the commit adds them, one write instead of two reads and a write.
            // Should they exist after all, adding one fails, and they are read then. Nothing is refused on a guess (a
            // credit is refused only on a state row, and issuance, which has a cap to check, is never guessed).
            var guessed = attempt == 1 && group.Known.Count == 0 && legs.All(same => same[0].Leg == Leg.Credit && !same[0].Issues);
            if (guessed) foreach (var key in missing) group.Known[key] = null;
            else await ReadRowsAsync(account, group, missing);
            var readJustNow = !guessed && missing.Count == keys.Count;

            var state = group.Known[stateKey];
            var quantities = new Dictionary<string, long>(StringComparer.Ordinal); // row key → quantity after the legs so far
            long Quantity(string key) => quantities.TryGetValue(key, out var q) ? q : group.Known[key]?.GetInt64("Quantity") ?? 0;
            var now = clock.GetUtcNow();
            var decided = new List<(List<PendingLeg> Same, TableTransactionAction Row, LegOutcome Outcome)>();
            var unsure = false;
            foreach (var same in legs)
            {
                var (tx, leg, cap) = (same[0].Tx, same[0].Leg, same[0].IssuanceCap);
                var balanceKey = same[0].BalanceRowKey;
                var balance = new Tonnes(Quantity(balanceKey));
                var issuedKey = IssuedKey(tx.Vintage);
                var issuedSoFar = same[0].Issues ? new Tonnes(Quantity(issuedKey)) : Tonnes.Zero;
                if (Refusal(tx, leg, account, state, group.Known[balanceKey], balance, same[0].Issues ? cap : null, issuedSoFar) is { } refusal)
                {
                    if (!readJustNow)
                    {
                        unsure = true; // decided on rows kept from before: read them all again first
                        break;
                    }
                    decided.Add((same, new(TableTransactionActionType.Add, new TableEntity(account, same[0].Key)
                    {
                        ["TransactionId"] = tx.TransactionId, ["Leg"] = leg.ToString().ToLowerInvariant(), ["Refused"] = refusal, ["At"] = now,
                    }), LegOutcome.Refused(refusal)));
                    continue;
                }
                var newBalance = balance + (leg == Leg.Debit ? -tx.Quantity : tx.Quantity);
                quantities[balanceKey] = newBalance.Value;
                if (same[0].Issues) quantities[issuedKey] = (issuedSoFar + tx.Quantity).Value;
                decided.Add((same, new(TableTransactionActionType.Add, JournalEntity(account, tx, leg, newBalance - balance, newBalance, now)), LegOutcome.Done));
            }
            if (unsure)
            {
                group.Known.Clear();
                continue;
            }

            var rows = new List<(string Key, TableEntity Entity, TableTransactionAction Action)>();
            if (quantities.Count > 0)
            {
                // Every applied leg touches the state row with its ETag: a suspension or closure since it was read makes
                // the commit retry and see it. The row appears with the account's first movement.
                var stateRow = state is null ? new TableEntity(account, stateKey) { ["OpenedAt"] = now, ["Suspensions"] = "" } : new TableEntity(state) { ["LastMovementAt"] = now };
                rows.Add((stateKey, stateRow, state is null
                    ? new(TableTransactionActionType.Add, stateRow)
                    : new(TableTransactionActionType.UpdateMerge, new TableEntity(account, stateKey) { ["LastMovementAt"] = now }, state.ETag)));
                foreach (var (key, quantity) in quantities)
                {
                    var before = group.Known[key];
                    var entity = before is null ? NewQuantityRow(account, key, legs) : new TableEntity(before);
                    entity["Quantity"] = quantity;
                    rows.Add((key, entity, before is null
                        ? new(TableTransactionActionType.Add, entity)
                        : new(TableTransactionActionType.UpdateReplace, entity, before.ETag)));
                }
            }
            try
            {
                var written = await Table.SubmitTransactionAsync([.. rows.Select(r => r.Action), .. decided.Select(d => d.Row)], CancellationToken.None);
                for (var i = 0; i < rows.Count; i++)
                {
                    // Kept with the ETag the write returned, so the next commit needs no read.
                    See(account, rows[i].Key, rows[i].Entity);
                    if (written.Value[i].Headers.ETag is { } etag)
                    {
                        rows[i].Entity.ETag = etag;
                        group.Known[rows[i].Key] = rows[i].Entity;
                    }
                    else
                    {
                        group.Known.Remove(rows[i].Key);
                    }
                }
                foreach (var (same, _, outcome) in decided) foreach (var leg in same) leg.Outcome.TrySetResult(outcome);
                return;
            }
            catch (TableTransactionFailedException error) when (error.Status is 409 or 412)
            {
                if (guessed)
                {
                    group.Known.Clear(); // whatever failed, the guessed rows are read now
                    if (error.Status == 409 && error.FailedTransactionActionIndex is int row && row < rows.Count) continue; // they exist: no race to back off from
                }
                if (error.Status == 409 && error.FailedTransactionActionIndex is int failed && failed >= rows.Count
                    && await ReadAsync(account, decided[failed - rows.Count].Same[0].Key, CancellationToken.None) is { } earlier)
                {
                    // That leg was decided before (an earlier delivery): its decision stands, and the rest go again. The
                    // transaction wrote nothing, so what is known still holds.
                    var same = decided[failed - rows.Count].Same;
                    foreach (var leg in same) leg.Outcome.TrySetResult(Decision(earlier));
                    legs.Remove(same);
                    continue;
                }
                // Another writer changed a row since it was read or kept (another instance's legs, a suspension, a bulk
                // debit), or added one known to be absent: read again.
                group.Known.Clear();
                if (error.Status == 409) await ResolveDecidedAsync(account, legs); // a leg's row, if the failing action was not named
                await BackOffAsync(attempt, CancellationToken.None);
            }
        }
    }

    /// <summary>
    /// Reads the rows the commit needs and this instance does not know, in parallel point reads; rows not found are known
    /// to be absent. Point reads, not one query of the partition: a point read costs the same however large the ledger
    /// grows, and on Azurite a query scans the whole table (a query per unit made a 10,000-unit allocation twice as slow
    /// as a 2,500-unit one, per unit).
    /// </summary>
    private async Task ReadRowsAsync(string account, AccountGroup group, IReadOnlyList<string> missing)
    {
        var read = await Task.WhenAll(missing.Select(key => ReadAsync(account, key, CancellationToken.None)));
        for (var i = 0; i < missing.Count; i++)
        {
            group.Known[missing[i]] = read[i];
            See(account, missing[i], read[i]);
        }
    }

    /// <summary>Takes out of <paramref name="legs"/> those decided meanwhile, giving each its recorded decision.</summary>
    private async Task ResolveDecidedAsync(string account, List<List<PendingLeg>> legs)
    {
        var found = await Task.WhenAll(legs.Select(async same => (Same: same, Row: await ReadAsync(account, same[0].Key, CancellationToken.None))));
        foreach (var (same, row) in found.Where(f => f.Row is not null))
        {
            foreach (var leg in same) leg.Outcome.TrySetResult(Decision(row!));
            legs.Remove(same);
        }
    }

    /// <summary>A balance or issued row the account does not have yet, with the descriptive columns of its first leg.</summary>
    private static TableEntity NewQuantityRow(string account, string key, List<List<PendingLeg>> legs)
    {
        if (key.StartsWith("issued|", StringComparison.Ordinal)) return new TableEntity(account, key);
        var tx = legs.Select(same => same[0]).First(l => l.BalanceRowKey == key).Tx;
        return new TableEntity(account, key) { ["Product"] = tx.Product, ["Vintage"] = tx.Vintage, ["Lot"] = tx.Lot };
    }

    /// <summary>Why the leg cannot be applied to what was read, or null when it can.</summary>
    private static string? Refusal(LedgerTransaction tx, Leg leg, string account, TableEntity? state, TableEntity? balanceRow, Tonnes balance, Tonnes? issuanceCap, Tonnes issuedSoFar)
    {
        if (state?.GetBoolean("Closed") == true && leg != Leg.Refund) return $"Account {account} is closed (注销); it neither sends nor receives.";
        if (leg == Leg.Debit && Suspensions(state) is { Count: > 0 } active)
        {
            return $"Account {account} is suspended ({string.Join(", ", active)}); it can receive but not send until the suspension is lifted.";
        }
        if (leg == Leg.Debit && balance < tx.Quantity)
        {
            return account == Domain.Ledger.RegulatorAccounts.Issuance && balanceRow is null
                ? $"{tx.Product} of vintage {tx.Vintage} has not been issued."
                : $"Insufficient holdings: account {account} holds {balance.Value} t of {Describe(tx)}; {tx.Quantity.Value} t were asked for.";
        }
        if (tx.Type == TransactionType.Issuance && leg == Leg.Credit)
        {
            // Art. 12: allowances are issued within the year's cap, so a vintage with no plan has nothing to issue.
            if (issuanceCap is not { } cap) return $"No allocation plan (cap) for {tx.Vintage}: BEA {tx.Vintage} is issued only within the cap of its plan (Art. 12); set it with PUT /api/allocation/{tx.Vintage}/plan first.";
            if (issuedSoFar + tx.Quantity > cap)
            {
                return $"Over the cap: {issuedSoFar.Value} t of BEA {tx.Vintage} are issued and the {tx.Vintage} cap is {cap.Value} t; at most {(cap - issuedSoFar).Value} t more can be issued.";
            }
        }
        return null;
    }

    /// <summary>The decision a leg's row records: a journal row is an applied leg, a refusal row a refused one.</summary>
    private static LegOutcome Decision(TableEntity legRow) => legRow.GetString("Refused") is { } reason ? LegOutcome.Refused(reason) : LegOutcome.Done;

    private static bool IsRefusal(TableEntity legRow) => legRow.GetString("Refused") is not null;

    /// <summary>
    /// Applies the debit legs of many transactions from one account, product, vintage and lot, up to
    /// <see cref="DebitsPerBatch"/> in one entity-group transaction: one write instead of one contended write each,
    /// for the regulator's bulk allocations out of the issuance account. Each transaction keeps its own journal row,
    /// so the legs are exactly those <see cref="ApplyAsync"/> would have written, and a debit already applied (by an
    /// earlier run or a settlement racing this one) is left as it is. Returns the transactions whose debit is now
    /// applied; the others (the account cannot pay the whole batch, or is suspended or closed) are left for the
    /// single-leg settlement, which refuses each with its reason.
    /// </summary>
    public async Task<IReadOnlyList<LedgerTransaction>> DebitManyAsync(IReadOnlyList<LedgerTransaction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return [];
        if (batch.Count > DebitsPerBatch) throw new ArgumentException($"At most {DebitsPerBatch} debits go in one batch.", nameof(batch));
        var first = batch[0];
        if (batch.Any(t => t.From != first.From || t.Product != first.Product || t.Vintage != first.Vintage || t.Lot != first.Lot || TransactionRules.Creates(t.Type)))
        {
            throw new ArgumentException("A batch of debits comes out of one account, product, vintage and lot.", nameof(batch));
        }
        var account = first.From!;
        var balanceKey = BalanceKey(account, first.Product, first.Vintage, first.Lot);
        var remaining = batch.ToList();
        var debitedBefore = new List<LedgerTransaction>();
        for (var attempt = 1; attempt <= MaxAttempts && remaining.Count > 0; attempt++)
        {
            var stateRead = ReadAsync(account, StateKey(account), cancellationToken);
            var balanceRow = await ReadAsync(account, balanceKey, cancellationToken);
            var state = await stateRead;
            var balance = new Tonnes(balanceRow?.GetInt64("Quantity") ?? 0);
            var total = remaining.Aggregate(Tonnes.Zero, (sum, t) => sum + t.Quantity);
            if (state is null || balanceRow is null || state.GetBoolean("Closed") == true || Suspensions(state).Count > 0 || balance < total) return debitedBefore;

            var now = clock.GetUtcNow();
            var actions = new List<TableTransactionAction>
            {
                new(TableTransactionActionType.UpdateMerge, new TableEntity(account, StateKey(account)) { ["LastMovementAt"] = now }, state.ETag),
                new(TableTransactionActionType.UpdateReplace, new TableEntity(account, balanceKey)
                {
                    ["Product"] = first.Product, ["Vintage"] = first.Vintage, ["Lot"] = first.Lot, ["Quantity"] = (balance - total).Value,
                }, balanceRow.ETag),
            };
            var running = balance;
            foreach (var tx in remaining)
            {
                running -= tx.Quantity;
                actions.Add(new(TableTransactionActionType.Add, JournalEntity(account, tx, Leg.Debit, -tx.Quantity, running, now)));
            }
            try
            {
                await Table.SubmitTransactionAsync(actions, cancellationToken);
                return [.. debitedBefore, .. remaining];
            }
            catch (TableTransactionFailedException error) when (error.Status == 409)
            {
                // A journal row exists: some debit was applied before. Take those out and pay for the rest.
                remaining = await TakeOutAppliedAsync(account, remaining, Leg.Debit, debitedBefore, cancellationToken);
            }
            catch (TableTransactionFailedException error) when (error.Status == 412)
            {
                await BackOffAsync(attempt, cancellationToken);
            }
        }
        return debitedBefore;
    }

    /// <summary>
    /// Moves the transactions whose leg is already applied into <paramref name="applied"/>; returns those not decided yet.
    /// One whose leg was refused is in neither: the single-leg settlement finds its refusal.
    /// </summary>
    private async Task<List<LedgerTransaction>> TakeOutAppliedAsync(string account, List<LedgerTransaction> remaining, Leg leg, List<LedgerTransaction> applied, CancellationToken cancellationToken)
    {
        var found = await Task.WhenAll(remaining.Select(async t => (Tx: t, Row: await ReadAsync(account, JournalKey(t.TransactionId, leg), cancellationToken))));
        applied.AddRange(found.Where(f => f.Row is not null && !IsRefusal(f.Row)).Select(f => f.Tx));
        return found.Where(f => f.Row is null).Select(f => f.Tx).ToList();
    }

    /// <summary>How many debits <see cref="DebitManyAsync"/> takes at once: an entity-group transaction holds 100 actions, two of them the state and balance rows.</summary>
    public const int DebitsPerBatch = 98;

    /// <summary>
    /// The mirror of <see cref="DebitManyAsync"/>: applies the credit legs of many transactions into one account,
    /// product, vintage and lot in one entity-group transaction, for bulk movements into a regulator account (the
    /// claw-backs of a verified allocation) that would otherwise all contend for its one balance row. Call it only for
    /// transactions whose debit is applied. Returns those whose credit is now applied; the rest (a closed account) are
    /// left for the single-leg settlement.
    /// </summary>
    public async Task<IReadOnlyList<LedgerTransaction>> CreditManyAsync(IReadOnlyList<LedgerTransaction> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0) return [];
        if (batch.Count > DebitsPerBatch) throw new ArgumentException($"At most {DebitsPerBatch} credits go in one batch.", nameof(batch));
        var first = batch[0];
        if (batch.Any(t => t.To != first.To || t.Product != first.Product || t.Vintage != first.Vintage || t.Lot != first.Lot || t.Type == TransactionType.Issuance))
        {
            throw new ArgumentException("A batch of credits goes into one account, product, vintage and lot, and is not issuance.", nameof(batch));
        }
        var account = first.To;
        var balanceKey = BalanceKey(account, first.Product, first.Vintage, first.Lot);
        var remaining = batch.ToList();
        var creditedBefore = new List<LedgerTransaction>();
        for (var attempt = 1; attempt <= MaxAttempts && remaining.Count > 0; attempt++)
        {
            var stateRead = ReadAsync(account, StateKey(account), cancellationToken);
            var balanceRow = await ReadAsync(account, balanceKey, cancellationToken);
            var state = await stateRead;
            if (state?.GetBoolean("Closed") == true) return creditedBefore;
            var balance = new Tonnes(balanceRow?.GetInt64("Quantity") ?? 0);
            var now = clock.GetUtcNow();
            var total = remaining.Aggregate(Tonnes.Zero, (sum, t) => sum + t.Quantity);
            var balanceEntity = new TableEntity(account, balanceKey)
            {
                ["Product"] = first.Product, ["Vintage"] = first.Vintage, ["Lot"] = first.Lot, ["Quantity"] = (balance + total).Value,
            };
            var actions = new List<TableTransactionAction>
            {
                state is null
                    ? new(TableTransactionActionType.Add, new TableEntity(account, StateKey(account)) { ["OpenedAt"] = now, ["Suspensions"] = "" })
                    : new(TableTransactionActionType.UpdateMerge, new TableEntity(account, StateKey(account)) { ["LastMovementAt"] = now }, state.ETag),
                balanceRow is null ? new(TableTransactionActionType.Add, balanceEntity) : new(TableTransactionActionType.UpdateReplace, balanceEntity, balanceRow.ETag),
            };
            var running = balance;
            foreach (var tx in remaining)
            {
                running += tx.Quantity;
                actions.Add(new(TableTransactionActionType.Add, JournalEntity(account, tx, Leg.Credit, tx.Quantity, running, now)));
            }
            try
            {
                await Table.SubmitTransactionAsync(actions, cancellationToken);
                return [.. creditedBefore, .. remaining];
            }
            catch (TableTransactionFailedException error) when (error.Status == 409)
            {
                // A journal row (or the state row) exists: take out the credits applied before, and read again.
                remaining = await TakeOutAppliedAsync(account, remaining, Leg.Credit, creditedBefore, cancellationToken);
            }
            catch (TableTransactionFailedException error) when (error.Status == 412)
            {
                await BackOffAsync(attempt, cancellationToken);
            }
        }
        return creditedBefore;
    }

    /// <summary>What the account holds of one product, vintage (and lot): a point read, however large the ledger grows.</summary>
    public async Task<Tonnes> BalanceAsync(string account, string product, int vintage, string? lot, CancellationToken cancellationToken) =>
        new((await ReadAsync(account, BalanceKey(account, product, vintage, lot), cancellationToken))?.GetInt64("Quantity") ?? 0);

    /// <summary>An account's row as this instance last wrote or read it: its quantity, or its suspensions and closure.</summary>
    private sealed record SeenRow(long Quantity, int Suspensions, bool Closed);

    /// <summary>
    /// The rows legs were last committed with (or read for) in this instance, by account and row key: what lets a check
    /// before an order skip its reads when they would only confirm what this instance just wrote. A hint, never a
    /// decision: the leg itself is decided on the rows' ETags.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Account, string Key), SeenRow?> _seen = new();

    private const int MaxSeen = 100_000;

    private void See(string account, string key, TableEntity? row)
    {
        // Counting the dictionary takes all its locks: only when a row is new to it, not on every commit.
        if (!_seen.ContainsKey((account, key)) && _seen.Count >= MaxSeen) _seen.Clear();
        _seen[(account, key)] = row is null ? null : new SeenRow(row.GetInt64("Quantity") ?? 0, Suspensions(row).Count, row.GetBoolean("Closed") == true);
    }

    private void Forget(string account) => _seen.TryRemove((account, StateKey(account)), out _);

    /// <summary>
    /// Whether the seller may sell <paramref name="tonnes"/> from its own account (not suspended, not closed) and what it
    /// holds: as this instance last saw both rows when they allow it (the freeze's debit decides, on what storage holds),
    /// else both read now, so a refusal is only ever reported on what storage holds.
    /// </summary>
    public async Task<(bool Suspended, Tonnes Held)> SellerAsync(string account, string product, int vintage, string? lot, long tonnes, CancellationToken cancellationToken)
    {
        var balanceKey = BalanceKey(account, product, vintage, lot);
        if (_seen.TryGetValue((account, StateKey(account)), out var state) && state is { Suspensions: 0, Closed: false }
            && _seen.TryGetValue((account, balanceKey), out var balance) && balance is { } held && held.Quantity >= tonnes)
        {
            return (false, new Tonnes(held.Quantity));
        }
        var suspended = IsSuspendedAsync(account, cancellationToken);
        var quantity = BalanceAsync(account, product, vintage, lot, cancellationToken);
        return (await suspended, await quantity);
    }

    /// <summary>Whether the account is suspended now: a point read of its state row.</summary>
    public async Task<bool> IsSuspendedAsync(string account, CancellationToken cancellationToken) =>
        Suspensions(await ReadAsync(account, StateKey(account), cancellationToken)).Count > 0;

    /// <summary>Every account holding some of the product and vintage (without lots), with what it holds.</summary>
    public async Task<IReadOnlyList<(string Account, Tonnes Quantity)>> HoldersAsync(string product, int vintage, CancellationToken cancellationToken)
    {
        var holders = new List<(string, Tonnes)>();
        var lowest = BalanceKey("", product, vintage, null);
        var filter = TableClient.CreateQueryFilter($"RowKey ge {lowest} and RowKey lt {lowest[..^1] + "}"}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "Quantity"], cancellationToken: cancellationToken))
        {
            if ((row.GetInt64("Quantity") ?? 0) > 0) holders.Add((row.PartitionKey, new Tonnes(row.GetInt64("Quantity")!.Value)));
        }
        return holders;
    }

    public async Task<AccountState> ReadAccountAsync(string account, CancellationToken cancellationToken)
    {
        var holdings = new List<Holding>();
        IReadOnlyList<string> suspensions = [];
        var closed = false;
        var stateKey = StateKey(account);
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == account && (r.RowKey == stateKey || (r.RowKey.CompareTo("balance|") >= 0 && r.RowKey.CompareTo("balance}") < 0)), cancellationToken: cancellationToken))
        {
            if (row.RowKey == stateKey)
            {
                suspensions = Suspensions(row);
                closed = row.GetBoolean("Closed") == true;
                continue;
            }
            var quantity = row.GetInt64("Quantity") ?? 0;
            if (quantity != 0) holdings.Add(new Holding(row.GetString("Product"), row.GetInt32("Vintage") ?? 0, row.GetString("Lot"), new Tonnes(quantity)));
        }
        return new AccountState(account, suspensions.Count > 0, suspensions, holdings, closed);
    }

    public async Task<IReadOnlyList<JournalLine>> JournalAsync(string account, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var lines = new List<JournalLine>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == account && r.RowKey.CompareTo("journal|") >= 0 && r.RowKey.CompareTo("journal}") < 0, cancellationToken: cancellationToken))
        {
            if (IsRefusal(row)) continue; // a refused leg moved nothing
            var line = ToLine(row);
            if ((from is null || line.At >= from) && (to is null || line.At < to)) lines.Add(line);
        }
        return lines.OrderBy(l => l.At).ThenBy(l => l.TransactionId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every journal line of every account: what the invariant check adds up.</summary>
    public async IAsyncEnumerable<(string Account, JournalLine Line)> AllJournalLinesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.RowKey.CompareTo("journal|") >= 0 && r.RowKey.CompareTo("journal}") < 0, cancellationToken: cancellationToken))
        {
            if (!IsRefusal(row)) yield return (row.PartitionKey, ToLine(row));
        }
    }

    /// <summary>Suspends or lifts with the state row's ETag, so a debit that read the account before sees the change.</summary>
    public async Task<IReadOnlyList<string>> ChangeSuspensionsAsync(string account, Func<IReadOnlyList<string>, IReadOnlyList<string>> change, CancellationToken cancellationToken)
    {
        while (true)
        {
            Forget(account);
            var state = await ReadAsync(account, StateKey(account), cancellationToken);
            var after = change(Suspensions(state));
            var entity = new TableEntity(account, StateKey(account)) { ["Suspensions"] = string.Join(",", after) };
            try
            {
                if (state is null)
                {
                    entity["OpenedAt"] = clock.GetUtcNow();
                    await Table.AddEntityAsync(entity, cancellationToken);
                }
                else
                {
                    await Table.UpdateEntityAsync(entity, state.ETag, TableUpdateMode.Merge, cancellationToken);
                }
                Forget(account); // and again once written: a commit that saw the row before must not leave it seen
                return after;
            }
            catch (RequestFailedException error) when (error.Status is 409 or 412)
            {
            }
        }
    }

    /// <summary>
    /// Closes an account that holds nothing (注销, Art. 9). Every leg touches the state row, so closing with the ETag
    /// read before the holdings fails if any movement landed in between, and no holding is stranded in a closed account.
    /// </summary>
    public async Task<string?> CloseAsync(string account, CancellationToken cancellationToken)
    {
        while (true)
        {
            Forget(account);
            var state = await ReadAsync(account, StateKey(account), cancellationToken);
            var current = await ReadAccountAsync(account, cancellationToken);
            if (current.Closed) return $"Account {account} is already closed.";
            if (current.Holdings.Count > 0)
            {
                return $"Account {account} still holds {string.Join(", ", current.Holdings.Select(h => $"{h.Quantity.Value} t of {h.Product} {h.Vintage}"))}; surrender, cancel or transfer them first.";
            }
            var entity = new TableEntity(account, StateKey(account)) { ["Closed"] = true, ["ClosedAt"] = clock.GetUtcNow(), ["Suspensions"] = state?.GetString("Suspensions") ?? "" };
            try
            {
                if (state is null) await Table.AddEntityAsync(entity, cancellationToken);
                else await Table.UpdateEntityAsync(entity, state.ETag, TableUpdateMode.Merge, cancellationToken);
                Forget(account);
                return null;
            }
            catch (RequestFailedException error) when (error.Status is 409 or 412)
            {
                // A movement landed since the state row was read: look at the holdings again.
            }
        }
    }

    /// <summary>How much BEA of a vintage has been issued so far.</summary>
    public async Task<Tonnes> IssuedAsync(int vintage, CancellationToken cancellationToken) =>
        new((await ReadAsync(Domain.Ledger.RegulatorAccounts.Issuance, IssuedKey(vintage), cancellationToken))?.GetInt64("Quantity") ?? 0);

    /// <summary>Counts a lost race on an account and waits a random while, longer the more races in a row were lost.</summary>
    private static Task BackOffAsync(int attempt, CancellationToken cancellationToken)
    {
        EtsTelemetry.LedgerConflicts.Add(1);
        return Contention.BackOffAsync(attempt, cancellationToken);
    }

    private async Task<TableEntity?> ReadAsync(string account, string key, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(account, key, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    private static IReadOnlyList<string> Suspensions(TableEntity? state) =>
        state?.GetString("Suspensions")?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];

    private static JournalLine ToLine(TableEntity row) => new(
        row.GetString("TransactionId"), row.GetString("Leg"), row.GetString("Type"), row.GetString("Product"), row.GetInt32("Vintage") ?? 0, row.GetString("Lot"),
        new Tonnes(row.GetInt64("Quantity") ?? 0), new Tonnes(row.GetInt64("Balance") ?? 0), row.GetString("Counterparty"), row.GetString("Reference"),
        row.GetDateTimeOffset("At") ?? default);

    private static TableEntity JournalEntity(string account, LedgerTransaction tx, Leg leg, Tonnes change, Tonnes balance, DateTimeOffset at) => new(account, JournalKey(tx.TransactionId, leg))
    {
        ["TransactionId"] = tx.TransactionId,
        ["Leg"] = leg.ToString().ToLowerInvariant(),
        ["Type"] = TransactionRules.Name(tx.Type),
        ["Product"] = tx.Product,
        ["Vintage"] = tx.Vintage,
        ["Lot"] = tx.Lot,
        ["Quantity"] = change.Value,
        ["Balance"] = balance.Value,
        ["Counterparty"] = leg == Leg.Credit ? tx.From : tx.To,
        ["Reference"] = tx.Reference,
        ["At"] = at,
    };

    private static string Describe(LedgerTransaction tx) => tx.Lot is null ? $"{tx.Product} {tx.Vintage}" : $"{tx.Product} {tx.Vintage} lot {tx.Lot}";

    /// <summary>
    /// A balance row: product, vintage and lot, then the account, so every account's row keys differ; the rows of one
    /// product and vintage without a lot (every holder's) share the prefix that <see cref="HoldersAsync"/> ranges over.
    /// </summary>
    internal static string BalanceKey(string account, string product, int vintage, string? lot) =>
        $"balance|{product}|{vintage.ToString("D4", CultureInfo.InvariantCulture)}|{Uri.EscapeDataString(lot ?? "")}|{account}";

    private static string JournalKey(string transactionId, Leg leg) => $"journal|{transactionId}|{leg.ToString().ToLowerInvariant()}";

    private static string IssuedKey(int vintage) => $"issued|BEA|{vintage.ToString("D4", CultureInfo.InvariantCulture)}";
}
