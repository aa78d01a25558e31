namespace BeijingEts.Functions.Market;

public enum FundsMovementKind
{
    /// <summary>Money paid in at the exchange (recorded by the exchange).</summary>
    Deposit,
    /// <summary>Money paid out (recorded by the exchange); only from available funds.</summary>
    Withdrawal,
    /// <summary>Set aside for a buy order: price × quantity + fee.</summary>
    Freeze,
    /// <summary>What a cancelled or better-priced order no longer needs, back to available.</summary>
    Release,
    /// <summary>A buyer's payment for a fill, out of frozen funds.</summary>
    Pay,
    /// <summary>A seller's proceeds, or the exchange's fee, into available funds.</summary>
    Receive,
    /// <summary>A fee charged from available funds (the seller's side of a fill).</summary>
    Charge,
}

/// <summary>One movement on a funds account, under the id that makes it happen once.</summary>
public sealed record FundsMovement(string TransactionId, FundsMovementKind Kind, long AmountFen, string? Reference, DateTimeOffset At)
{
    public bool SameAs(FundsMovement other) => Kind == other.Kind && AmountFen == other.AmountFen && Reference == other.Reference;
}

public sealed record FundsBalance(long AvailableFen, long FrozenFen)
{
    public static readonly FundsBalance Empty = new(0, 0);

    /// <summary>The balance after the movement, or why it cannot happen (nothing ever goes below zero).</summary>
    public (FundsBalance? After, string? Refusal) Apply(FundsMovement movement)
    {
        var amount = movement.AmountFen;
        var after = movement.Kind switch
        {
            FundsMovementKind.Deposit or FundsMovementKind.Receive => this with { AvailableFen = checked(AvailableFen + amount) },
            FundsMovementKind.Withdrawal or FundsMovementKind.Charge => this with { AvailableFen = AvailableFen - amount },
            FundsMovementKind.Freeze => new FundsBalance(AvailableFen - amount, checked(FrozenFen + amount)),
            FundsMovementKind.Release => new FundsBalance(checked(AvailableFen + amount), FrozenFen - amount),
            FundsMovementKind.Pay => this with { FrozenFen = FrozenFen - amount },
            _ => throw new ArgumentOutOfRangeException(nameof(movement)),
        };
        if (after.AvailableFen < 0)
        {
            return (null, $"Available funds are {Money.ToYuan(AvailableFen):0.00} yuan; {movement.Kind.ToString().ToLowerInvariant()} of {Money.ToYuan(amount):0.00} yuan needs more.");
        }
        return after.FrozenFen < 0 ? (null, $"Frozen funds are {Money.ToYuan(FrozenFen):0.00} yuan, less than {Money.ToYuan(amount):0.00}.") : (after, null);
    }
}

public enum FundsOutcome { Applied, AlreadyApplied, Refused, IdTaken }

/// <summary>
/// Funds accounts at the exchange, one partition each: a balance row and a journal row per movement, written together
/// in one entity-group transaction under the balance's ETag, so a movement happens exactly once and never overdraws.
/// </summary>
public sealed class FundsStore(StorageClients storage)
{
    private const string BalanceRow = "balance";
    private const int MaxAttempts = 200;

    private TableClient Table => storage.Table(StorageNames.Tables.Funds);

    private static string JournalRow(string transactionId) => "tx-" + transactionId;

    /// <summary>
    /// Each account's balance row as this instance last read or wrote it, with its ETag. A movement is decided on it and
    /// written conditional on the ETag, so a row someone else changed since costs a retry (read again), never a wrong
    /// balance; a refusal is only ever made on a row read just now. Saves the read before each movement on an account
    /// this instance keeps moving (a trader's freezes, a round's payments and proceeds, the exchange's fees).
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, TableEntity> _known = new(StringComparer.Ordinal);

    /// <summary>Accounts whose balance rows this instance keeps; beyond it, they are forgotten and read again on next use.</summary>
    private const int MaxKnown = 50_000;

    private void Keep(string participant, TableEntity row, ETag? etag)
    {
        if (etag is not { } written)
        {
            _known.TryRemove(participant, out _);
            return;
        }
        // Counting the dictionary takes all its locks: only when an account is new to it, not on every movement.
        if (!_known.ContainsKey(participant) && _known.Count >= MaxKnown) _known.Clear();
        row.ETag = written;
        _known[participant] = row;
    }

    /// <summary>
    /// Movements on one account take turns on this instance: at once, all but one would be written under the same ETag,
    /// fail, back off, read the row again and write again. Between instances the ETag still decides. One turn per account
    /// (only while someone uses it), so a movement backing off from another instance's write never holds up another account.
    /// </summary>
    private readonly Dictionary<string, (SemaphoreSlim Turn, int Users)> _turns = new(StringComparer.Ordinal);

    private async Task<Turn> TakeTurnAsync(string participant, CancellationToken cancellationToken)
    {
        SemaphoreSlim turn;
        lock (_turns)
        {
            var (existing, users) = _turns.TryGetValue(participant, out var entry) ? entry : (new SemaphoreSlim(1, 1), 0);
            _turns[participant] = (existing, users + 1);
            turn = existing;
        }
        try
        {
            await turn.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(participant);
            throw;
        }
        return new Turn(this, participant, turn);
    }

    private void Leave(string participant)
    {
        lock (_turns)
        {
            var (turn, users) = _turns[participant];
            if (users == 1) _turns.Remove(participant);
            else _turns[participant] = (turn, users - 1);
        }
    }

    private readonly struct Turn(FundsStore store, string participant, SemaphoreSlim turn) : IDisposable
    {
        public void Dispose()
        {
            turn.Release();
            store.Leave(participant);
        }
    }

    private async Task<TableEntity?> ReadBalanceRowAsync(string participant, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(participant, BalanceRow, cancellationToken: cancellationToken);
        if (row.HasValue) Keep(participant, row.Value!, row.Value!.ETag);
        else _known.TryRemove(participant, out _);
        return row.HasValue ? row.Value : null;
    }

    public async Task<FundsBalance> BalanceAsync(string participant, CancellationToken cancellationToken) =>
        await ReadBalanceRowAsync(participant, cancellationToken) is { } row ? ReadBalance(row) : FundsBalance.Empty;

    /// <summary>
    /// The balance, for a check that <paramref name="neededFen"/> is available before anything is written: the one this
    /// instance knows when it covers the amount (the movement itself decides, on the row's ETag), else read now, so a
    /// shortfall is only ever reported on what storage holds.
    /// </summary>
    public async Task<FundsBalance> BalanceForAsync(string participant, long neededFen, CancellationToken cancellationToken) =>
        _known.TryGetValue(participant, out var known) && ReadBalance(known) is { } balance && balance.AvailableFen >= neededFen
            ? balance
            : await BalanceAsync(participant, cancellationToken);

    public async Task<IReadOnlyList<FundsMovement>> JournalAsync(string participant, CancellationToken cancellationToken)
    {
        var lines = new List<FundsMovement>();
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == participant && r.RowKey.CompareTo("tx-") >= 0 && r.RowKey.CompareTo("tx.") < 0, cancellationToken: cancellationToken))
        {
            lines.Add(DocumentRows.Read<FundsMovement>(row));
        }
        return lines.OrderBy(l => l.At).ToList();
    }

    /// <summary>The movement recorded under the id on the account, or null.</summary>
    public async Task<FundsMovement?> FindAsync(string participant, string transactionId, CancellationToken cancellationToken) =>
        await Table.FindDocumentAsync<FundsMovement>(participant, JournalRow(transactionId), cancellationToken);

    /// <summary>Applies the movement once: again with the same content is a no-op, with other content is refused.</summary>
    public Task<(FundsOutcome Outcome, FundsBalance Balance, string? Refusal)> ApplyAsync(string participant, FundsMovement movement, CancellationToken cancellationToken) =>
        ApplyAllAsync(participant, [movement], cancellationToken);

    /// <summary>
    /// Applies movements on one account together, in one write (a seller's proceeds and its fee): all of them or, if
    /// one would overdraw, none. Once applied, applying them again is a no-op; an id used for other content is refused.
    /// </summary>
    public async Task<(FundsOutcome Outcome, FundsBalance Balance, string? Refusal)> ApplyAllAsync(
        string participant, IReadOnlyList<FundsMovement> movements, CancellationToken cancellationToken)
    {
        using var turn = await TakeTurnAsync(participant, cancellationToken);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // In parallel: a movement recorded between these reads is caught by the second look below, or by the write's ETag.
            var recordedReads = movements.Select(m => Table.GetEntityIfExistsAsync<TableEntity>(participant, JournalRow(m.TransactionId), cancellationToken: cancellationToken)).ToList();
            var balanceRead = Table.GetEntityIfExistsAsync<TableEntity>(participant, BalanceRow, cancellationToken: cancellationToken);
            var recorded = await Task.WhenAll(recordedReads);
            var balanceRow = await balanceRead;
            var balance = balanceRow.HasValue ? ReadBalance(balanceRow.Value!) : FundsBalance.Empty;
            // Written together, so recorded together: one recorded means all were.
            if (recorded.Any(r => r.HasValue)) return (Earlier(recorded, movements), balance, null);
            var (after, refusal) = (balance, (string?)null);
            foreach (var movement in movements)
            {
                (var next, refusal) = after.Apply(movement);
                if (next is null) break;
                after = next;
            }
            if (refusal is not null)
            {
                // The same movements, applied by a concurrent request between the reads, would look like a shortfall:
                // their journal rows went in with the balance, so a second look tells the two apart.
                var late = await Table.GetEntityIfExistsAsync<TableEntity>(participant, JournalRow(movements[0].TransactionId), cancellationToken: cancellationToken);
                return late.HasValue ? (Earlier([late], [movements[0]]), balance, null) : (FundsOutcome.Refused, balance, refusal);
            }
            var newBalance = new TableEntity(participant, BalanceRow) { ["AvailableFen"] = after.AvailableFen, ["FrozenFen"] = after.FrozenFen };
            List<TableTransactionAction> batch =
            [
                balanceRow.HasValue
                    ? new(TableTransactionActionType.UpdateReplace, newBalance, balanceRow.Value!.ETag)
                    : new(TableTransactionActionType.Add, newBalance),
                .. movements.Select(m => new TableTransactionAction(TableTransactionActionType.Add, DocumentRows.Entity(participant, JournalRow(m.TransactionId), m))),
            ];
            try
            {
                var written = await Table.SubmitTransactionAsync(batch, cancellationToken);
                Keep(participant, newBalance, written.Value.Count > 0 ? written.Value[0].Headers.ETag : null);
                return (FundsOutcome.Applied, after, null);
            }
            catch (TableTransactionFailedException error) when (error.Status is 409 or 412)
            {
                // Another movement (or the same one, sent twice) got there first: back off, read again and decide.
                _known.TryRemove(participant, out _);
                await Contention.BackOffAsync(attempt + 1, cancellationToken);
            }
        }
        throw new InvalidOperationException($"Funds account {participant} stayed contended for {MaxAttempts} attempts.");
    }

    /// <summary>
    /// Applies each movement once, whichever of them were applied before (by an earlier attempt at a larger or smaller
    /// group of them, as a matching round replayed after a crash can form): the rest go in one write with the balance,
    /// up to 99 at a time. Nothing is read but the balance: a movement recorded before makes its row's Add fail, and is
    /// checked and taken out. Refused (nothing more written) when the rest would overdraw; IdTaken when an id holds
    /// other content.
    /// </summary>
    public async Task<(FundsOutcome Outcome, string? Refusal)> ApplyEachAsync(string participant, IReadOnlyList<FundsMovement> movements, CancellationToken cancellationToken)
    {
        using var turn = await TakeTurnAsync(participant, cancellationToken);
        var remaining = movements.ToList();
        for (var attempt = 0; remaining.Count > 0; attempt++)
        {
            if (attempt == MaxAttempts) throw new InvalidOperationException($"Funds account {participant} stayed contended for {MaxAttempts} attempts.");
            var chunk = remaining.Take(TableBatches.MaxBatch - 1).ToList();
            var kept = _known.TryGetValue(participant, out var known);
            var balanceRow = kept ? known : await ReadBalanceRowAsync(participant, cancellationToken);
            var after = balanceRow is not null ? ReadBalance(balanceRow) : FundsBalance.Empty;
            string? refusal = null;
            foreach (var movement in chunk)
            {
                (var next, refusal) = after.Apply(movement);
                if (next is null) break;
                after = next;
            }
            if (refusal is not null && kept)
            {
                // Decided on the row as kept: refused only on the row as it is now.
                _known.TryRemove(participant, out _);
                continue;
            }
            if (refusal is not null)
            {
                // Movements applied before are in the balance already and would count twice: take them out, then decide.
                var recorded = await Task.WhenAll(chunk.Select(m => FindAsync(participant, m.TransactionId, cancellationToken)));
                if (chunk.Where((_, i) => recorded[i] is null).Count() == chunk.Count) return (FundsOutcome.Refused, refusal);
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (recorded[i] is { } earlier && !earlier.SameAs(chunk[i])) return (FundsOutcome.IdTaken, null);
                    if (recorded[i] is not null) remaining.Remove(chunk[i]);
                }
                continue;
            }
            var newBalance = new TableEntity(participant, BalanceRow) { ["AvailableFen"] = after.AvailableFen, ["FrozenFen"] = after.FrozenFen };
            List<TableTransactionAction> batch =
            [
                balanceRow is not null ? new(TableTransactionActionType.UpdateReplace, newBalance, balanceRow.ETag) : new(TableTransactionActionType.Add, newBalance),
                .. chunk.Select(m => new TableTransactionAction(TableTransactionActionType.Add, DocumentRows.Entity(participant, JournalRow(m.TransactionId), m))),
            ];
            try
            {
                var written = await Table.SubmitTransactionAsync(batch, cancellationToken);
                Keep(participant, newBalance, written.Value.Count > 0 ? written.Value[0].Headers.ETag : null);
                remaining.RemoveRange(0, chunk.Count);
            }
            catch (TableTransactionFailedException error) when (error.Status == 412 && kept)
            {
                _known.TryRemove(participant, out _); // changed since this instance kept it (another instance, a deposit elsewhere): read it now
            }
            catch (TableTransactionFailedException error) when (error.Status == 409)
            {
                _known.TryRemove(participant, out _);
                // Some of these were applied before (a replayed round): take out all that were, in one look, and go on.
                var recorded = await Task.WhenAll(chunk.Select(m => FindAsync(participant, m.TransactionId, cancellationToken)));
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (recorded[i] is { } earlier && !earlier.SameAs(chunk[i])) return (FundsOutcome.IdTaken, null);
                    if (recorded[i] is not null) remaining.Remove(chunk[i]);
                }
                if (recorded.All(r => r is null)) await Contention.BackOffAsync(attempt + 1, cancellationToken); // the balance row was added meanwhile
            }
            catch (TableTransactionFailedException error) when (error.Status == 412)
            {
                _known.TryRemove(participant, out _);
                await Contention.BackOffAsync(attempt + 1, cancellationToken);
            }
        }
        return (FundsOutcome.Applied, null);
    }

    /// <summary>Already applied when every recorded movement matches what is asked now; else the id is taken.</summary>
    private static FundsOutcome Earlier(IReadOnlyList<NullableResponse<TableEntity>> recorded, IReadOnlyList<FundsMovement> movements) =>
        recorded.Select((r, i) => !r.HasValue || DocumentRows.Read<FundsMovement>(r.Value!).SameAs(movements[i])).All(same => same)
            ? FundsOutcome.AlreadyApplied
            : FundsOutcome.IdTaken;

    private static FundsBalance ReadBalance(TableEntity row) => new(row.GetInt64("AvailableFen") ?? 0, row.GetInt64("FrozenFen") ?? 0);
}
