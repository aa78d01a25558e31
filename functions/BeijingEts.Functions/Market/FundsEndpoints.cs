using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using Microsoft.AspNetCore.Mvc;

namespace BeijingEts.Functions.Market;

public sealed record FundsView(string Participant, decimal Available, decimal Frozen)
{
    public static FundsView Of(string participant, FundsBalance balance) => new(participant, Money.ToYuan(balance.AvailableFen), Money.ToYuan(balance.FrozenFen));
}

/// <summary>
/// Funds accounts at the exchange (Art. 18): POST /api/market/funds/{participant}/deposits and /withdrawals (the
/// exchange records money paid in and out), GET /api/market/funds/{participant} (the participant, exchange, regulator).
/// </summary>
public sealed class FundsEndpoints : IHttpFunction
{
    public sealed record Request(string TransactionId, decimal Amount);

    public sealed record MovementView(string TransactionId, string Kind, decimal Amount, FundsView Balance);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/market/funds/{participant}/deposits", (string participant, Request request, HttpContext http, [AsParameters] Services services, CancellationToken ct) =>
            MoveAsync(participant, request, FundsMovementKind.Deposit, http, services, ct)).WithTags("Market");
        api.MapPost("/market/funds/{participant}/withdrawals", (string participant, Request request, HttpContext http, [AsParameters] Services services, CancellationToken ct) =>
            MoveAsync(participant, request, FundsMovementKind.Withdrawal, http, services, ct)).WithTags("Market");
        api.MapGet("/market/funds/{participant}", GetAsync).WithTags("Market");
    }

    /// <summary>The prefix of the funds-journal ids of the exchange's deposits and withdrawals; the platform's own legs never start with it.</summary>
    public const string ExchangeReference = "ext:";

    public sealed record Services([FromServices] FundsStore Funds, [FromServices] AccountDirectory Accounts, [FromServices] AuditLog Audit, [FromServices] TimeProvider Clock);

    private static async Task<Results<Created<MovementView>, Ok<MovementView>, ProblemHttpResult>> MoveAsync(
        string participant, Request request, FundsMovementKind kind, HttpContext http, Services services, CancellationToken cancellationToken)
    {
        // The reserve's funds account (the municipal finance's money for buy-backs, Art. 31) takes deposits too.
        var code = participant;
        if (participant != AuctionHouse.ReserveFunds && !UnitInput.TryParse(participant, out code, out var invalid)) return invalid!;
        var reference = request.TransactionId?.Trim() ?? "";
        if (!MarketChecks.IsClientId(reference))
        {
            return ProblemHandling.BadRequest("transactionId is required: 1 to 64 letters, digits, '-', '_' or '.', the exchange's reference that makes the movement happen once.");
        }
        if (Money.Problem("amount", request.Amount) is { } wrong) return ProblemHandling.BadRequest(wrong);
        if (code != AuctionHouse.ReserveFunds && !await services.Accounts.ExistsAsync(code, cancellationToken))
        {
            return ProblemHandling.NotFound($"{code} has no account: funds accounts belong to registered units and voluntary participants (PUT /api/participants/{{uscc}}).");
        }
        // The exchange's references live in a namespace of their own, so none can take the id of a settlement's funds leg.
        var movement = new FundsMovement(ExchangeReference + reference, kind, Money.ToFen(request.Amount), null, services.Clock.GetUtcNow());
        var (outcome, balance, refusal) = await services.Funds.ApplyAsync(code, movement, cancellationToken);
        var view = new MovementView(reference, kind.ToString().ToLowerInvariant(), request.Amount, FundsView.Of(code, balance));
        switch (outcome)
        {
            case FundsOutcome.Refused:
                return Problems.Unprocessable(refusal!, new Dictionary<string, object?> { ["available"] = Money.ToYuan(balance.AvailableFen) });
            case FundsOutcome.IdTaken:
                return Problems.Conflict($"transactionId {reference} was already used on {code}'s funds account for a different movement.");
            case FundsOutcome.AlreadyApplied:
                return AuditLog.Replayed(http, TypedResults.Ok(view));
        }
        await services.Audit.RecordAsync(Actor.From(http.User), $"funds.{view.Kind}", $"market/funds/{code}", null, view, cancellationToken);
        return TypedResults.Created($"/api/market/funds/{code}", view);
    }

    private static async Task<Results<Ok<FundsView>, ProblemHttpResult>> GetAsync(
        string participant, HttpContext http, FundsStore funds, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        // The exchange's own account, where the fees go, and the reserve's (auction proceeds in, buy-backs out): the exchange and the regulator see them.
        // The finance authorities see the reserve's account, whose money is the municipal finance's (Art. 31), and no other.
        if (http.User.IsInRole(Roles.Finance) && participant != AuctionHouse.ReserveFunds) return ProblemHandling.NotFound($"The finance authorities see the reserve's funds account ({AuctionHouse.ReserveFunds}).");
        if (participant is MarketSettlement.ExchangeAccount or AuctionHouse.ReserveFunds
            && (http.User.IsInRole(Roles.Exchange) || http.User.IsInRole(Roles.Regulator) || (http.User.IsInRole(Roles.Finance) && participant == AuctionHouse.ReserveFunds)))
        {
            var parts = participant == MarketSettlement.ExchangeAccount ? MarketSettlement.ExchangeAccounts : [participant];
            var balances = await Task.WhenAll(parts.Select(p => funds.BalanceAsync(p, cancellationToken)));
            return TypedResults.Ok(FundsView.Of(participant, new FundsBalance(balances.Sum(b => b.AvailableFen), balances.Sum(b => b.FrozenFen))));
        }
        if (!UnitInput.TryParse(participant, out var code, out var invalid)) return invalid!;
        // A trader asking about another never learns whether it exists.
        if (!MarketAccess.MaySee(http.User, code) || !await accounts.ExistsAsync(code, cancellationToken))
        {
            return ProblemHandling.NotFound($"No funds account {code} that you may see.");
        }
        return TypedResults.Ok(FundsView.Of(code, await funds.BalanceAsync(code, cancellationToken)));
    }
}

public static class MarketServices
{
    public static IServiceCollection AddMarket(this IServiceCollection services)
    {
        services.AddSingleton<FundsStore>();
        services.AddSingleton(sp => MarketSettings.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<OrderStore>();
        services.AddSingleton<BookJournal>();
        services.AddSingleton<MarketSettlement>();
        services.AddSingleton<MarketMatcher>();
        services.AddSingleton<SellOrderCancellation>();
        services.AddSingleton<MarketChecks>();
        services.AddSingleton<OrderPlacement>();
        services.AddSingleton<NegotiatedStore>();
        services.AddSingleton<NegotiatedSettlement>();
        services.AddSingleton<AuctionStore>();
        services.AddSingleton<AuctionHouse>();
        services.AddSingleton<ReserveBudget>();
        services.AddSingleton<MarketWatchStore>();
        services.AddSingleton<PriceMonitor>();
        services.AddSingleton<Surveillance>();
        services.AddSingleton<ExchangeReportStore>();
        services.AddSingleton<RemittanceStore>();
        services.AddSingleton<TradingFiguresService>();
        return services;
    }
}
