namespace BeijingEts.Functions.Ledger;

public enum SubmitOutcome
{
    /// <summary>Recorded now and queued for settlement.</summary>
    Recorded,
    /// <summary>The same transaction was recorded before; queued again if still pending.</summary>
    AlreadyRecorded,
    /// <summary>The id is taken by a different transaction.</summary>
    IdTaken,
}

/// <summary>Records a transaction under its id and queues it for settlement: the one way movements enter the ledger.</summary>
public sealed class LedgerSubmitter(TransactionStore transactions, StorageClients storage)
{
    /// <param name="settledByCaller">The caller settles it right away itself; no message is sent. Should the caller stop
    /// first, the transaction is pending with no message, and <see cref="ResumePendingTransactions"/> sends one.</param>
    public async Task<(SubmitOutcome Outcome, LedgerTransaction Recorded)> SubmitAsync(LedgerTransaction tx, CancellationToken cancellationToken, bool settledByCaller = false)
    {
        var existing = await transactions.TryAddAsync(tx, cancellationToken);
        if (existing is not null && existing.ContentHash() != tx.ContentHash()) return (SubmitOutcome.IdTaken, existing);
        var recorded = existing ?? tx;
        if (!recorded.IsSettled && !settledByCaller)
        {
            // Sent again while pending: enqueue again too, in case the first message was lost. Settling is idempotent.
            await storage.Queue(StorageNames.Queues.AllowanceEvents).SendMessageAsync(
                JsonSerializer.Serialize(new SettleLedgerTransaction.Message(recorded.TransactionId), ResumePendingTransactions.QueueJson), cancellationToken);
        }
        return (existing is null ? SubmitOutcome.Recorded : SubmitOutcome.AlreadyRecorded, recorded);
    }
}
