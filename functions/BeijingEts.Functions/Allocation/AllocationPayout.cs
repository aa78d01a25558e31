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
public sealed class AllocationPayout(TransactionStore transactions, LedgerStore ledger, LedgerSettlement settlement, LedgerSubmitter submitter, TimeProvider clock)
{
    public async Task<PayoutResult> PayAsync(int year, IEnumerable<(string TransactionId, string Uscc, Tonnes Quantity)> payments, string idPrefix, string reference, Actor actor,
        CancellationToken cancellationToken)
    {
        var wanted = payments.Where(p => p.Quantity.Value > 0).Select(p => new LedgerTransaction(p.TransactionId, TransactionType.Allocation, RegulatorAccounts.Issuance,
            p.Uscc, Products.Bea, year, p.Quantity, null, reference, actor.Id, clock.GetUtcNow())).ToList();
        // An earlier run's payment under an id is this one; a different transaction there is a failure, never ours, and
        // is found before anything is recorded, so no payment is left pending for a run that stops here.
        var taken = new ConcurrentBag<string>();
        var earlier = new ConcurrentDictionary<string, LedgerTransaction>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(wanted, Parallelism(cancellationToken), async (tx, ct) =>
        {
            if (await transactions.FindAsync(tx.TransactionId, ct) is not { Transaction: var existing }) return;
            if (existing.ContentHash() != tx.ContentHash()) taken.Add(tx.TransactionId);
            else earlier[tx.TransactionId] = existing;
        });
        if (!taken.IsEmpty) return new PayoutResult([], Tonnes.Zero, $"Ledger transaction id(s) {string.Join(", ", taken.Order(StringComparer.Ordinal))} are taken by different transactions; nothing was paid.");

        // The allowances are issued before any payment is recorded: a recorded payment may be settled on its own at any
        // moment (ResumePendingTransactions re-sends one left pending for a minute, as a long run leaves them), and it
        // must find them there, or be refused for good.
        var unsettled = wanted.Where(t => !(earlier.TryGetValue(t.TransactionId, out var e) && e.IsSettled)).ToList();
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
                return new PayoutResult([.. earlier.Values], Tonnes.Zero, $"The allowances to allocate could not be issued: {rejected.Reason}");
            }
        }

        var recorded = new ConcurrentBag<LedgerTransaction>(earlier.Values);
        await Parallel.ForEachAsync(wanted.Where(t => !earlier.ContainsKey(t.TransactionId)), Parallelism(cancellationToken), async (tx, ct) =>
        {
            var existing = await transactions.TryAddAsync(tx, ct);
            recorded.Add(existing is null || existing.ContentHash() == tx.ContentHash() ? existing ?? tx : throw new LedgerIdTakenException(tx.TransactionId));
        });
        var pending = recorded.Where(t => !t.IsSettled).OrderBy(t => t.To, StringComparer.Ordinal).ToList();

        // What a batch could not pay goes through the queue and is settled (or refused, with the reason) alone.
        await Parallel.ForEachAsync(pending.Chunk(LedgerStore.DebitsPerBatch), new ParallelOptions { MaxDegreeOfParallelism = 2, CancellationToken = cancellationToken }, async (batch, ct) =>
        {
            var debited = await ledger.DebitManyAsync(batch, ct);
            await Parallel.ForEachAsync(debited, Parallelism(ct), async (tx, inner) => await settlement.SettleAsync(tx.TransactionId, inner, debitApplied: true));
            foreach (var tx in batch.Except(debited)) await submitter.SubmitAsync(tx, ct);
        });
        return new PayoutResult([.. recorded], toIssue, null);
    }

    private static ParallelOptions Parallelism(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken };
}
