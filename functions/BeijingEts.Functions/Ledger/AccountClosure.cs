using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;

namespace BeijingEts.Functions.Ledger;

/// <summary>
/// POST /api/accounts/{accountId}/closure (the holder or the regulator): closes (注销) an account that holds nothing. The
/// holder closes its own at once; the regulator's closure of someone else's account is proposed (202) and takes a second regulator's approval.
/// The registry (Art. 13) closes a voluntary participant's empty account at once; a unit's account it leaves to the unit and the regulator.
/// </summary>
public sealed class CloseAccount : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts/{accountId}/closure", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<AccountView>, Accepted<ProposalReceipt>, ProblemHttpResult>> HandleAsync(
        string accountId, HttpContext http, AccountDirectory accounts, ParticipantStore participants, LedgerStore ledger, AccountCloser closer, ApprovalService approvals,
        CancellationToken cancellationToken)
    {
        if (RegulatorAccounts.Is(accountId)) return Problems.Unprocessable("The regulator's own accounts are never closed.");
        if (http.User.IsInRole(Roles.Registry))
        {
            if (!Lists.UnitInput.TryParse(accountId, out var code, out var invalid)) return invalid!;
            if (await participants.FindAsync(code, cancellationToken) is null)
            {
                return await accounts.ExistsAsync(code, cancellationToken)
                    ? Problems.Unprocessable($"Account {code} is a unit's; the unit closes it, or the regulator with a second regulator's approval.")
                    : ProblemHandling.NotFound($"No account {code}.");
            }
            return await closer.CloseAsync(code, Actor.From(http.User), cancellationToken) is { Refusal: { } refused }
                ? Problems.Unprocessable(refused)
                : TypedResults.Ok(AccountView.From(await ledger.ReadAccountAsync(code, cancellationToken)));
        }
        if (await AccountAccess.CheckAsync(accountId, http.User, accounts, cancellationToken) is { } problem) return problem;
        var actor = Actor.From(http.User);
        if (http.User.IsInRole(Roles.Regulator))
        {
            var current = await ledger.ReadAccountAsync(accountId, cancellationToken);
            if (current.Closed) return Problems.Unprocessable($"Account {accountId} is already closed.");
            if (current.Holdings.Count > 0) return Problems.Unprocessable($"Account {accountId} still holds holdings; surrender, cancel or transfer them first.");
            var (_, proposal) = await approvals.ProposeAsync(AccountClosureApproval.KindName, $"accounts/{accountId}", $"close account {accountId}",
                new AccountClosureApproval.Payload(accountId), actor, cancellationToken);
            return ProposalReceipt.Accepted(proposal);
        }
        return await closer.CloseAsync(accountId, actor, cancellationToken) is { Refusal: { } refusal } ? Problems.Unprocessable(refusal) : TypedResults.Ok(AccountView.From(await ledger.ReadAccountAsync(accountId, cancellationToken)));
    }
}

/// <summary>Closes an account that holds nothing, with its audit row; null refusal when closed.</summary>
public sealed class AccountCloser(LedgerStore ledger, AuditLog audit)
{
    public async Task<(string? Refusal, bool AlreadyClosed)> CloseAsync(string accountId, Actor actor, CancellationToken cancellationToken)
    {
        var before = await ledger.ReadAccountAsync(accountId, cancellationToken);
        if (before.Closed) return ($"Account {accountId} is already closed.", true);
        if (await ledger.CloseAsync(accountId, cancellationToken) is { } refusal) return (refusal, false);
        var after = await ledger.ReadAccountAsync(accountId, cancellationToken);
        await audit.RecordAsync(actor, "account.closed", $"accounts/{accountId}", AccountView.From(before), AccountView.From(after), cancellationToken);
        return (null, false);
    }
}

/// <summary>The regulator's closure of an account, once a second regulator approves it.</summary>
public sealed class AccountClosureApproval(AccountCloser closer) : ApprovableAction<AccountClosureApproval.Payload>
{
    public const string KindName = "account.closure";

    public sealed record Payload(string AccountId);

    public override string Kind => KindName;

    protected override async Task<ActionOutcome> ExecuteAsync(Domain.Approvals.Proposal proposal, Payload payload, Actor approver, CancellationToken cancellationToken)
    {
        var (refusal, alreadyClosed) = await closer.CloseAsync(payload.AccountId, approver, cancellationToken);
        // Closed by an earlier run of this approval (cut off before it recorded the outcome) is this approval's outcome too.
        return refusal is null || alreadyClosed ? ActionOutcome.Executed($"account {payload.AccountId} is closed") : ActionOutcome.Failed(refusal);
    }
}

/// <summary>
/// Daily at 01:00 Beijing time (17:00 UTC): a unit removed from the key list must close its account within three years
/// of removal (Art. 9); once that deadline has passed with the account still open, its use is stopped (suspended).
/// </summary>
[TimerTrigger("0 0 17 * * *")]
public sealed class SuspendOverdueRemovedAccounts(UnitStore units, LedgerStore ledger, NoticeOutbox notices, AuditLog audit, TimeProvider clock) : ITimerFunction
{
    public const string Suspension = "removal-deadline-passed";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var today = BeijingTime.Today(clock);
        foreach (var unit in (await units.ReadAllAsync(cancellationToken)).Values)
        {
            if (unit.Status != UnitStatus.Removed || unit.AccountCancellationDeadline is not { } deadline || deadline >= today) continue;
            var account = await ledger.ReadAccountAsync(unit.Uscc, cancellationToken);
            if (account.Closed) continue;
            if (!account.Suspensions.Contains(Suspension)) await SuspendAsync(unit, deadline, account, cancellationToken);
            // Told after the suspension, and again on each later run (the id is fixed: nothing is written twice), so a
            // notice that failed to be written is written the next day.
            await notices.PublishAsync(NoticeTemplates.AccountSuspended(Party.Unit(unit.Uscc), unit.Uscc, Suspension,
                $"{unit.RemovedOn:yyyy-MM-dd} 移出名单后未于 {deadline:yyyy-MM-dd} 前注销账户（第九条）",
                $"removed from the list on {unit.RemovedOn:yyyy-MM-dd}, account not closed by {deadline:yyyy-MM-dd} (Art. 9)"), cancellationToken);
        }
    }

    private async Task SuspendAsync(UnitRecord unit, DateOnly deadline, AccountState account, CancellationToken cancellationToken)
    {
        var after = await ledger.ChangeSuspensionsAsync(unit.Uscc, current => current.Contains(Suspension) ? current : [.. current, Suspension], cancellationToken);
        await audit.RecordAsync(Actor.System(nameof(SuspendOverdueRemovedAccounts)), "account.suspended", $"accounts/{unit.Uscc}", account.Suspensions,
            new { suspensions = after, reason = $"removed on {unit.RemovedOn:yyyy-MM-dd}; account not closed by {deadline:yyyy-MM-dd} (Art. 9)" }, cancellationToken);
    }
}
