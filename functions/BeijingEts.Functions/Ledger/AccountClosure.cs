using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Ledger;

/// <summary>POST /api/accounts/{accountId}/closure (the holder or the regulator): closes (注销) an account that holds nothing.</summary>
public sealed class CloseAccount : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/accounts/{accountId}/closure", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> HandleAsync(
        string accountId, HttpContext http, AccountDirectory accounts, LedgerStore ledger, AuditLog audit, CancellationToken cancellationToken)
    {
        if (RegulatorAccounts.Is(accountId)) return Problems.Unprocessable("The regulator's own accounts are never closed.");
        if (await AccountAccess.CheckAsync(accountId, http.User, accounts, cancellationToken) is { } problem) return problem;
        var before = await ledger.ReadAccountAsync(accountId, cancellationToken);
        if (await ledger.CloseAsync(accountId, cancellationToken) is { } refusal) return Problems.Unprocessable(refusal);
        var after = await ledger.ReadAccountAsync(accountId, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "account.closed", $"accounts/{accountId}", AccountView.From(before), AccountView.From(after), cancellationToken);
        return TypedResults.Ok(AccountView.From(after));
    }
}

/// <summary>
/// Daily at 01:00 Beijing time (17:00 UTC): a unit removed from the key list must close its account within three years
/// of removal (Art. 9); once that deadline has passed with the account still open, its use is stopped (suspended).
/// </summary>
[TimerTrigger("0 0 17 * * *")]
public sealed class SuspendOverdueRemovedAccounts(UnitStore units, LedgerStore ledger, AuditLog audit, TimeProvider clock) : ITimerFunction
{
    public const string Suspension = "removal-deadline-passed";

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        var today = BeijingTime.Today(clock);
        foreach (var unit in (await units.ReadAllAsync(cancellationToken)).Values)
        {
            if (unit.Status != UnitStatus.Removed || unit.AccountCancellationDeadline is not { } deadline || deadline >= today) continue;
            var account = await ledger.ReadAccountAsync(unit.Uscc, cancellationToken);
            if (account.Closed || account.Suspensions.Contains(Suspension)) continue;
            var after = await ledger.ChangeSuspensionsAsync(unit.Uscc, current => current.Contains(Suspension) ? current : [.. current, Suspension], cancellationToken);
            await audit.RecordAsync(Actor.System(nameof(SuspendOverdueRemovedAccounts)), "account.suspended", $"accounts/{unit.Uscc}", account.Suspensions,
                new { suspensions = after, reason = $"removed on {unit.RemovedOn:yyyy-MM-dd}; account not closed by {deadline:yyyy-MM-dd} (Art. 9)" }, cancellationToken);
        }
    }
}
