using System.Collections.Concurrent;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Allocation;

/// <summary>What a payout did: the transactions under their ids (as recorded now or by an earlier run), and what it issued.</summary>
public sealed record PayoutResult(IReadOnlyList<LedgerTransaction> Recorded, Tonnes Issued, string? Failure);

/// <summary>
/// Pays free allocations out of the issuance account, each a transaction with a fixed id so a second run gives nobody
/// anything twice: issues what the account lacks (within the cap), then debits the issuance account in batches (one
/// write per batch instead of one contended write per unit) and credits each unit on its own account.
/// </summary>
public sealed class AllocationPayout(TransactionStore transactions, LedgerStore ledger, LedgerSettlement settlement, LedgerSubmitter submitter, TimeProvider clock,
    ILogger<AllocationPayout> logger)
{
    /// <param name="whenRecorded">Work to do once every payment is recorded (from then on each is paid, or refused with the
    /// reason, whatever becomes of this call), while they settle: telling the units. It is not run when the payout fails
    /// before recording anything.</param>
    public async Task<PayoutResult> PayAsync(int year, IEnumerable<(string TransactionId, string Uscc, Tonnes Quantity)> payments, string idPrefix, string reference, Actor actor,
        CancellationToken cancellationToken, Func<CancellationToken, Task>? whenRecorded = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var wanted = payments.Where(p => p.Quantity.Value > 0).Select(p => new LedgerTransaction(p.TransactionId, TransactionType.Allocation, RegulatorAccounts.Issuance,
            p.Uscc, Products.Bea, year, p.Quantity, null, reference, actor.Id, clock.GetUtcNow())).ToList();
        // An earlier run's payment under an id is this one; a different transaction there is a failure, never ours, and
        // is found before anything is recorded, so no payment is left pending for a run that stops here.
        var earlier = await EarlierAsync(wanted, cancellationToken);
        var taken = wanted.Where(t => earlier.TryGetValue(t.TransactionId, out var e) && e.Transaction.ContentHash() != t.ContentHash()).Select(t => t.TransactionId).ToList();
        if (taken.Count > 0) return new PayoutResult([], Tonnes.Zero, $"Ledger transaction id(s) {string.Join(", ", taken.Order(StringComparer.Ordinal))} are taken by different transactions; nothing was paid.");

        // The allowances are issued before any payment is recorded: a recorded payment may be settled on its own at any
        // moment (ResumePendingTransactions re-sends one left pending for a minute, as a long run leaves them), and it
        // must find them there, or be refused for good.
        var unsettled = wanted.Where(t => !(earlier.TryGetValue(t.TransactionId, out var e) && e.Transaction.IsSettled)).ToList();
        var needed = unsettled.Aggregate(Tonnes.Zero, (sum, t) => sum + t.Quantity);
        var inIssuance = await ledger.BalanceAsync(RegulatorAccounts.Issuance, Products.Bea, year, null, cancellationToken);
        var toIssue = needed > inIssuance ? needed - inIssuance : Tonnes.Zero;
        if (toIssue.Value > 0)
        {
            var issuance = new LedgerTransaction(LedgerIds.AllocationIssuance(idPrefix, year, Guid.NewGuid()), TransactionType.Issuance, null, RegulatorAccounts.Issuance,
                Products.Bea, year, toIssue, null, reference, actor.Id, clock.GetUtcNow());
            await transactions.TryAddAsync(issuance, cancellationToken);
            await settlement.SettleAsync(issuance.TransactionId, cancellationToken);
            if ((await transactions.FindAsync(issuance.TransactionId, cancellationToken))!.Value.Transaction is { State: TransactionState.Rejected } rejected)
            {
                return new PayoutResult([.. earlier.Values.Select(e => e.Transaction)], Tonnes.Zero, $"The allowances to allocate could not be issued: {rejected.Reason}");
            }
        }

        var issued = watch.Elapsed;
        // Each payment is recorded with its row's ETag, so settling it needs no second read. A run's payments share a
        // partition, so they are recorded 100 to a request; one recorded meanwhile (a second run at once) is read.
        var recording = wanted.Where(t => !earlier.ContainsKey(t.TransactionId)).ToList();
        var recorded = new Dictionary<string, (LedgerTransaction Transaction, ETag ETag)>(earlier, StringComparer.Ordinal);
        foreach (var (id, row) in await transactions.RecordManyAsync(recording, (found, asked) => found.ContentHash() == asked.ContentHash(), cancellationToken)) recorded[id] = row;
        var recordedAt = watch.Elapsed;
        var pending = recorded.Values.Where(r => !r.Transaction.IsSettled).Select(r => r.Transaction).OrderBy(t => t.To, StringComparer.Ordinal).ToList();

        // A batch's debits in one write, its credits each on its unit's account, its statuses in one write. The debits
        // take turns (they all write the issuance account's balance: at once, all but one would lose the race and go
        // again), while the batches debited before are credited. What a batch could not pay goes through the queue and
        // is settled (or refused, with the reason) alone.
        var alongside = whenRecorded?.Invoke(cancellationToken) ?? Task.CompletedTask;
        using var debiting = new SemaphoreSlim(1);
        var settling = Parallel.ForEachAsync(pending.Chunk(LedgerStore.DebitsPerBatch), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (batch, ct) =>
        {
            IReadOnlyList<LedgerTransaction> debited;
            await debiting.WaitAsync(ct);
            try
            {
                debited = await ledger.DebitManyAsync(batch, ct);
            }
            finally
            {
                debiting.Release();
            }
            await settlement.SettleManyAsync([.. debited.Select(tx => recorded[tx.TransactionId])], ct, debitApplied: true);
            foreach (var tx in batch.Except(debited)) await submitter.SubmitAsync(tx, ct);
        });
        await Task.WhenAll(settling, alongside);
        logger.LogInformation("Payout {Prefix} {Year}: {Payments} payment(s) in {Seconds:F1} s (earlier ones and issuance {Issued:F1} s, recording {Recorded:F1} s, settling {Settled:F1} s)",
            idPrefix, year, wanted.Count, watch.Elapsed.TotalSeconds, issued.TotalSeconds, (recordedAt - issued).TotalSeconds, (watch.Elapsed - recordedAt).TotalSeconds);
        return new PayoutResult([.. recorded.Values.Select(r => r.Transaction)], toIssue, null);
    }

    /// <summary>
    /// The transactions already recorded under the payments' ids, with their ETags: one query over the ids' common
    /// prefix (a payout's ids share one, such as ets:pre-allocation-2026-), or a read per id when they share none.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, (LedgerTransaction Transaction, ETag ETag)>> EarlierAsync(IReadOnlyList<LedgerTransaction> wanted, CancellationToken cancellationToken)
    {
        var ids = wanted.Select(t => t.TransactionId).ToHashSet(StringComparer.Ordinal);
        var prefix = ids.Aggregate((string?)null, (common, id) => common is null ? id : id[..CommonLength(common, id)]) ?? "";
        if (prefix.Length >= MinimumPrefix)
        {
            return (await transactions.FindByPrefixAsync(prefix, cancellationToken)).Where(e => ids.Contains(e.Key)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        }
        var found = new ConcurrentDictionary<string, (LedgerTransaction, ETag)>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(ids, Parallelism(cancellationToken), async (id, ct) =>
        {
            if (await transactions.FindAsync(id, ct) is { } existing) found[id] = existing;
        });
        return found;
    }

    /// <summary>A prefix at least this long ("ets:" and a little more) narrows the query to one kind of payment.</summary>
    private const int MinimumPrefix = 8;

    private static int CommonLength(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n]) n++;
        return n;
    }

    private static ParallelOptions Parallelism(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
}
