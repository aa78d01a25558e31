using BeijingEts.Domain.Approvals;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Approvals;

/// <summary>
/// Issuance, offset deposits and reclaims sent by the regulator through POST /api/ledger/transactions (Art. 13): they
/// create or take back units of the scheme, so a second regulator approves them. The proposal's id derives from the
/// transactionId, so a retried submission finds its proposal instead of making a second one.
/// </summary>
public sealed class LedgerTransactionApproval(AccountDirectory accounts, LedgerSubmitter submitter, AuditLog audit) : ApprovableAction<LedgerTransaction>
{
    public const string KindName = "ledger.transaction";

    public override string Kind => KindName;

    public static bool Needs(TransactionType type) => type is TransactionType.Issuance or TransactionType.Allocation or TransactionType.Deposit or TransactionType.Reclaim;

    public static Task<(ProposeVerdict Verdict, Proposal Proposal)> ProposeAsync(ApprovalService approvals, LedgerTransaction tx, Actor proposer, CancellationToken cancellationToken) =>
        approvals.ProposeAsync(KindName, $"ledger/transactions/{tx.TransactionId}",
            $"{TransactionRules.Name(tx.Type)} of {tx.Quantity.Value} t of {tx.Product} {tx.Vintage}{(tx.Lot is null ? "" : $" lot {tx.Lot}")} from {tx.From ?? "-"} to {tx.To}",
            tx, proposer, cancellationToken, id: $"ledger-{tx.TransactionId}", contentKey: tx.ContentHash());

    protected override async Task<ActionOutcome> ExecuteAsync(Proposal proposal, LedgerTransaction tx, Actor approver, CancellationToken cancellationToken)
    {
        foreach (var account in new[] { tx.From, tx.To }.OfType<string>())
        {
            if (!await accounts.ExistsAsync(account, cancellationToken)) return ActionOutcome.Failed($"Account {account} no longer exists.");
        }
        var (outcome, recorded) = await submitter.SubmitAsync(tx, cancellationToken);
        if (outcome == SubmitOutcome.IdTaken) return ActionOutcome.Failed($"transactionId {tx.TransactionId} was taken by a different transaction meanwhile.");
        if (outcome == SubmitOutcome.Recorded)
        {
            await audit.RecordAsync(approver, "ledger.transaction-submitted", $"ledger/transactions/{tx.TransactionId}", null, TransactionView.Of(tx), cancellationToken);
        }
        return ActionOutcome.Executed($"transaction {recorded.TransactionId} submitted for settlement: GET /api/ledger/transactions/{recorded.TransactionId}");
    }
}
