using System.Security.Claims;
using System.Text.RegularExpressions;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Approvals;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Ledger;

public sealed record TransactionView(string TransactionId, string Type, string? From, string To, string Product, int Vintage, Tonnes Quantity, string? Lot,
    string? Reference, string Status, string? Reason, DateTimeOffset SubmittedAt, DateTimeOffset? SettledAt)
{
    public static TransactionView Of(LedgerTransaction t) => new(t.TransactionId, TransactionRules.Name(t.Type), t.From, t.To, t.Product, t.Vintage, t.Quantity,
        t.Lot, t.Reference, t.State, t.Reason, t.SubmittedAt, t.SettledAt);
}

/// <summary>
/// POST /api/ledger/transactions: records a movement under the caller's transactionId and queues it for settlement
/// (202 with a status URL). The same id with the same content never moves anything twice; with other content, 409.
/// </summary>
public sealed partial class SubmitLedgerTransaction : IHttpFunction
{
    public sealed record Request(string TransactionId, TransactionType Type, string To, string Product, int Vintage, Tonnes Quantity,
        string? From = null, string? Lot = null, string? Reference = null);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapPost("/ledger/transactions", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Accepted<TransactionView>, Accepted<ProposalReceipt>, ProblemHttpResult>> HandleAsync(
        Request request, HttpContext http, AccountDirectory accounts, IssuanceCaps caps, LedgerSubmitter submitter, AuditLog audit, TimeProvider clock,
        TransactionStore transactions, ApprovalService approvals, CancellationToken cancellationToken)
    {
        if (!TransactionIdPattern().IsMatch(request.TransactionId ?? ""))
        {
            return ProblemHandling.BadRequest("transactionId must be 1 to 100 letters, digits, '-', '_', '.' or ':'; it is your idempotency key.");
        }
        if (LedgerIds.IsReserved(request.TransactionId))
        {
            // Art. 13: the platform's own transactions (surrenders, allocations, trades...) live there; no caller may take their ids.
            return ProblemHandling.BadRequest($"transactionId {request.TransactionId} starts with '{LedgerIds.Prefix}', the namespace the platform keeps for its own transactions; choose an id that does not.");
        }
        var problems = TransactionRules.Validate(request.Type, request.From, request.To, request.Product, request.Vintage, request.Quantity, request.Lot);
        if (request.Reference?.Length > 500) problems = [.. problems, "reference is longer than 500 characters."];
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        if (Forbidden(http.User, request) is { } forbidden) return Problems.Forbidden(forbidden);
        foreach (var account in new[] { request.From, request.To }.OfType<string>())
        {
            if (!await accounts.ExistsAsync(account, cancellationToken))
            {
                return Problems.Unprocessable($"Unknown account {account}: accounts are the USCCs of registered units and participants, or {string.Join(", ", RegulatorAccounts.All)}.");
            }
        }
        if (request.Type == TransactionType.Issuance && await caps.CapAsync(request.Vintage, cancellationToken) is null)
        {
            return Problems.Unprocessable($"No allocation plan (cap) for {request.Vintage}: BEA {request.Vintage} is issued only within the cap of its plan (Art. 12); set it with PUT /api/allocation/{request.Vintage}/plan first.");
        }

        var actor = Actor.From(http.User);
        var tx = new LedgerTransaction(request.TransactionId!, request.Type, request.From, request.To, request.Product, request.Vintage, request.Quantity,
            request.Lot?.Trim(), request.Reference, actor.Id, clock.GetUtcNow());
        var idTaken = Problems.Conflict($"transactionId {tx.TransactionId} was already used for a different transaction; use a new id for a new transaction.");
        if (LedgerTransactionApproval.Needs(tx.Type))
        {
            // Issuance, deposits and reclaims take a second regulator's approval; approval submits this very transaction.
            if (await transactions.FindAsync(tx.TransactionId, cancellationToken) is { } taken && taken.Transaction.ContentHash() != tx.ContentHash()) return idTaken;
            var (verdict, proposal) = await LedgerTransactionApproval.ProposeAsync(approvals, tx, actor, cancellationToken);
            if (verdict == ProposeVerdict.IdTaken) return idTaken;
            if (verdict == ProposeVerdict.AlreadyRecorded) AuditLog.MarkReplayed(http); // the same proposal again: audited when first made
            return ProposalReceipt.Accepted(proposal);
        }
        var (outcome, recorded) = await submitter.SubmitAsync(tx, cancellationToken);
        if (outcome == SubmitOutcome.IdTaken) return idTaken;
        if (outcome == SubmitOutcome.Recorded)
        {
            await audit.RecordAsync(actor, "ledger.transaction-submitted", $"ledger/transactions/{tx.TransactionId}", null, TransactionView.Of(tx), cancellationToken);
        }
        else AuditLog.MarkReplayed(http); // the same transaction again: recorded (and audited) by its first submission
        return TypedResults.Accepted($"/api/ledger/transactions/{Uri.EscapeDataString(recorded.TransactionId)}", TransactionView.Of(recorded));
    }

    private static string? Forbidden(ClaimsPrincipal user, Request request) => request.Type switch
    {
        TransactionType.Issuance or TransactionType.Allocation or TransactionType.Reclaim or TransactionType.Deposit when !user.IsInRole(Roles.Regulator) =>
            $"{TransactionRules.Name(request.Type)} is sent by the regulator.",
        // The exchange moved allowances between any two accounts this way; trades now settle inside, from the recorded trade.
        TransactionType.Transfer => "transfer is not sent: trades settle inside the market (public bidding, negotiated deals, auctions, buy-backs), each from its recorded trade.",
        TransactionType.Cancellation when !UnitAccess.IsUnit(user, request.From ?? "") => "cancellation is sent by the holder of the from account.",
        TransactionType.Succession => "succession follows a registered merger or split (POST /api/units/{uscc}/changes); it is not sent.",
        TransactionType.Surrender => "surrender is made with POST /api/units/{uscc}/surrenders/{year}, which applies the obligation and the 5% offset limit (Art. 27-28).",
        TransactionType.Freeze or TransactionType.Release => $"{TransactionRules.Name(request.Type)} follows orders placed and cancelled on the market (POST /api/market/orders); it is not sent.",
        _ => null,
    };

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,100}$")]
    private static partial Regex TransactionIdPattern();
}

/// <summary>GET /api/ledger/transactions/{transactionId}: pending, completed, or rejected with the reason.</summary>
public sealed class GetLedgerTransaction : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/ledger/transactions/{transactionId}", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<TransactionView>, ProblemHttpResult>> HandleAsync(string transactionId, HttpContext http, TransactionStore transactions, CancellationToken cancellationToken)
    {
        var found = await transactions.FindAsync(transactionId, cancellationToken);
        if (found is null || !MaySee(http.User, found.Value.Transaction)) return ProblemHandling.NotFound($"No transaction {transactionId} that you may see.");
        return TypedResults.Ok(TransactionView.Of(found.Value.Transaction));
    }

    private static bool MaySee(ClaimsPrincipal user, LedgerTransaction tx) =>
        user.IsInRole(Roles.Regulator) || Actor.From(user).Id == tx.SubmittedBy || UnitAccess.IsUnit(user, tx.From ?? "") || UnitAccess.IsUnit(user, tx.To);
}

/// <summary>A holding by product and vintage: quantity is what the holder owns, available plus frozen for its sell orders.</summary>
public sealed record HoldingView(string Product, int Vintage, Tonnes Quantity, Tonnes Available, Tonnes Frozen);

public sealed record LotView(string Product, int Vintage, string Lot, Tonnes Quantity);

public sealed record AccountView(string AccountId, string Status, IReadOnlyList<HoldingView> Holdings, IReadOnlyList<LotView> Lots, IReadOnlyList<string> Suspensions)
{
    /// <summary>The account with its frozen account's holdings (<see cref="FrozenAccounts"/>) shown as frozen.</summary>
    public static async Task<AccountView> ReadAsync(LedgerStore ledger, string accountId, CancellationToken cancellationToken)
    {
        var state = ledger.ReadAccountAsync(accountId, cancellationToken);
        var frozen = RegulatorAccounts.Is(accountId) ? null : ledger.ReadAccountAsync(FrozenAccounts.For(accountId), cancellationToken);
        return From(await state, frozen is null ? null : await frozen);
    }

    public static AccountView From(AccountState state, AccountState? frozen = null)
    {
        static Dictionary<(string Product, int Vintage), Tonnes> Sum(AccountState? account) => (account?.Holdings ?? [])
            .GroupBy(h => (h.Product, h.Vintage)).ToDictionary(g => g.Key, g => g.Aggregate(Tonnes.Zero, (sum, h) => sum + h.Quantity));
        var available = Sum(state);
        var held = Sum(frozen);
        var holdings = available.Keys.Union(held.Keys)
            .OrderBy(k => k.Product, StringComparer.Ordinal).ThenBy(k => k.Vintage)
            .Select(k => new HoldingView(k.Product, k.Vintage, available.GetValueOrDefault(k) + held.GetValueOrDefault(k), available.GetValueOrDefault(k), held.GetValueOrDefault(k)))
            .ToList();
        return new AccountView(
            state.AccountId,
            state.Closed ? "closed" : state.Suspended ? "suspended" : "active",
            holdings,
            state.Holdings.Where(h => h.Lot is not null).OrderBy(h => h.Product, StringComparer.Ordinal).ThenBy(h => h.Vintage).ThenBy(h => h.Lot, StringComparer.Ordinal)
                .Select(h => new LotView(h.Product, h.Vintage, h.Lot!, h.Quantity)).ToList(),
            state.Suspensions);
    }
}

internal static class AccountAccess
{
    /// <summary>The holder (the unit or participant whose USCC it is) and the regulator see an account.</summary>
    public static async Task<ProblemHttpResult?> CheckAsync(string accountId, ClaimsPrincipal user, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        var visible = user.IsInRole(Roles.Regulator) || (!RegulatorAccounts.Is(accountId) && string.Equals(Market.MarketAccess.Trader(user), accountId, StringComparison.OrdinalIgnoreCase));
        if (!visible || !await accounts.ExistsAsync(accountId, cancellationToken))
        {
            return ProblemHandling.NotFound($"No account {accountId} that you may see; a unit sees its own account, the regulator every account.");
        }
        return null;
    }
}

/// <summary>GET /api/accounts/{accountId}: status and holdings by product and vintage (and offsets by lot).</summary>
public sealed class GetAccount : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{accountId}", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> HandleAsync(
        string accountId, HttpContext http, AccountDirectory accounts, LedgerStore ledger, CancellationToken cancellationToken) =>
        await AccountAccess.CheckAsync(accountId, http.User, accounts, cancellationToken) is { } problem
            ? problem
            : TypedResults.Ok(await AccountView.ReadAsync(ledger, accountId, cancellationToken));
}

/// <summary>GET /api/units/{uscc}/account: a unit's holding account.</summary>
public sealed class GetUnitAccount : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/units/{uscc}/account", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> HandleAsync(
        string uscc, HttpContext http, AccountDirectory accounts, LedgerStore ledger, CancellationToken cancellationToken)
    {
        var code = uscc.Trim().ToUpperInvariant();
        return await AccountAccess.CheckAsync(code, http.User, accounts, cancellationToken) is { } problem
            ? problem
            : TypedResults.Ok(await AccountView.ReadAsync(ledger, code, cancellationToken));
    }
}

/// <summary>GET /api/accounts/{accountId}/journal?from=&amp;to=: every movement, in order, with the balance after it.</summary>
public sealed class GetAccountJournal : IHttpFunction
{
    public sealed record Journal(string AccountId, DateTimeOffset? From, DateTimeOffset? To, IReadOnlyList<JournalLine> Lines);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/accounts/{accountId}/journal", HandleAsync).WithTags("Ledger");

    private static async Task<Results<Ok<Journal>, ProblemHttpResult>> HandleAsync(
        string accountId, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, AccountDirectory accounts, LedgerStore ledger, CancellationToken cancellationToken)
    {
        if (await AccountAccess.CheckAsync(accountId, http.User, accounts, cancellationToken) is { } problem) return problem;
        if (from > to) return ProblemHandling.BadRequest("from is after to.");
        return TypedResults.Ok(new Journal(accountId, from, to, await ledger.JournalAsync(accountId, from, to, cancellationToken)));
    }
}

/// <summary>
/// GET /api/ledger/check (regulator): per product and vintage, issued = held + surrendered + cancelled, recomputed from
/// the journals. Movements between their two legs are counted in inFlight; at rest, drift is 0.
/// </summary>
public sealed class CheckLedger : IHttpFunction
{
    public sealed record Row(string Product, int Vintage, long Issued, long Held, long Surrendered, long Cancelled, long Drift);

    public sealed record Report(IReadOnlyList<Row> Rows, int InFlight);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/ledger/check", HandleAsync).WithTags("Ledger");

    private static async Task<Ok<Report>> HandleAsync(LedgerStore ledger, CancellationToken cancellationToken)
    {
        var totals = new Dictionary<(string Product, int Vintage), long[]>();
        var legs = new Dictionary<string, int>(StringComparer.Ordinal);
        await foreach (var (account, line) in ledger.AllJournalLinesAsync(cancellationToken))
        {
            var row = totals.TryGetValue((line.Product, line.Vintage), out var found) ? found : totals[(line.Product, line.Vintage)] = new long[4];
            if (line.Leg == "credit" && line.Type is "issuance" or "deposit") row[0] += line.Quantity.Value;
            var bucket = account == RegulatorAccounts.Surrender ? 2 : account == RegulatorAccounts.Cancellation ? 3 : 1;
            row[bucket] += line.Quantity.Value;
            legs[line.TransactionId] = legs.GetValueOrDefault(line.TransactionId) + (line.Leg == "debit" ? 1 : -1);
        }
        var rows = totals.OrderBy(t => t.Key.Product, StringComparer.Ordinal).ThenBy(t => t.Key.Vintage)
            .Select(t => new Row(t.Key.Product, t.Key.Vintage, t.Value[0], t.Value[1], t.Value[2], t.Value[3], t.Value[0] - t.Value[1] - t.Value[2] - t.Value[3]))
            .ToList();
        return TypedResults.Ok(new Report(rows, legs.Values.Count(v => v > 0)));
    }
}
