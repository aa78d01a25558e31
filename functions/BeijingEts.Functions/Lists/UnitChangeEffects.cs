using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// What follows the regulator's confirmation of a merger or split, each step safe to repeat: the unit marked succeeded,
/// then its holdings submitted to the ledger under the ids the change fixed, then the change marked as having taken effect.
/// </summary>
public sealed class UnitChangeEffects(UnitChangeStore changes, UnitStore units, LedgerSubmitter submitter, AuditLog audit, TimeProvider clock)
{
    public async Task TakeEffectAsync(UnitChange change, Actor actor, CancellationToken cancellationToken)
    {
        if (change.State != UnitChangeStates.Confirmed) return;
        while (await units.FindAsync(change.Uscc, cancellationToken) is var (unit, unitETag) && unit.Status != UnitStatus.Succeeded)
        {
            var succeeded = unit with { Status = UnitStatus.Succeeded, Successors = change.Successors, UpdatedAt = clock.GetUtcNow() };
            try
            {
                await units.ReplaceAsync(succeeded, unitETag, cancellationToken);
            }
            catch (RequestFailedException error) when (error.Status == 412)
            {
                continue; // the unit changed meanwhile: apply the change to what it is now
            }
            await audit.RecordAsync(actor, $"unit.{change.Kind}", $"units/{change.Uscc}", UnitView.From(unit), new { unit = UnitView.From(succeeded), change }, cancellationToken);
        }
        foreach (var transfer in change.HoldingTransfers ?? [])
        {
            var transaction = new LedgerTransaction(transfer.TransactionId, Domain.Ledger.TransactionType.Succession, change.Uscc, transfer.To, transfer.Product,
                transfer.Vintage, transfer.Quantity, transfer.Lot, $"Art. 8 {change.Kind} {change.Id}", change.ConfirmedBy!, change.ConfirmedAt!.Value);
            var (outcome, _) = await submitter.SubmitAsync(transaction, cancellationToken);
            // Art. 13: a platform id held by another transaction is never taken as this movement.
            if (outcome == SubmitOutcome.IdTaken) throw new InvalidOperationException($"Ledger id {transfer.TransactionId} of change {change.Id} is held by a different transaction.");
        }
        if (change.EffectTakenAt is null && await changes.FindAsync(change.Id, cancellationToken) is ({ EffectTakenAt: null } current, var etag))
        {
            try
            {
                await changes.MarkAsync(current with { EffectTakenAt = clock.GetUtcNow() }, etag, cancellationToken);
            }
            catch (RequestFailedException error) when (error.Status == 412)
            {
                // marked by a concurrent run: every step above is idempotent
            }
        }
    }

    /// <summary>Finishes confirmations that stopped before they took effect (confirmed over a minute ago, still unmarked).</summary>
    public async Task<int> FinishStoppedAsync(CancellationToken cancellationToken)
    {
        var done = 0;
        foreach (var change in await changes.AwaitingEffectAsync(clock.GetUtcNow() - TimeSpan.FromMinutes(1), cancellationToken))
        {
            await TakeEffectAsync(change, Actor.System("unit-changes"), cancellationToken);
            done++;
        }
        return done;
    }
}

/// <summary>Every minute: a merger or split confirmed by the regulator whose confirmation stopped half-way takes effect (Art. 8).</summary>
[TimerTrigger("0 * * * * *")]
public sealed class FinishConfirmedChanges(UnitChangeEffects effects) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => effects.FinishStoppedAsync(cancellationToken);
}
