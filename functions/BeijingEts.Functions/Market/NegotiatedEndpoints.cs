using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using Microsoft.AspNetCore.Mvc;

namespace BeijingEts.Functions.Market;

public sealed record DealView(string Id, string ClientId, string Seller, string Buyer, string Product, int Vintage, decimal Price, long Quantity,
    decimal BuyerFee, decimal SellerFee, string Status, string? Reason, DateTimeOffset ProposedAt, DateTimeOffset ConfirmBy, DateTimeOffset? ConfirmedAt, string? TradeId, string? Lot)
{
    public static DealView Of(NegotiatedDeal d) => new(d.Id, d.ClientId, d.Seller, d.Buyer, d.Product, d.Vintage, d.Price, d.Quantity,
        Money.ToYuan(d.BuyerFeeFen), Money.ToYuan(d.SellerFeeFen), JsonNamingPolicy.KebabCaseLower.ConvertName(d.Status.ToString()), d.Reason, d.ProposedAt, d.ConfirmBy,
        d.ConfirmedAt, d.Status == DealStatus.Confirmed ? $"{d.Product}-{d.Vintage}-{d.TradeId}" : null, d.Lot);
}

/// <summary>
/// Negotiated transfer (协议转让, Art. 19): POST /api/market/negotiated (the seller) proposes a price and quantity to a
/// named buyer and freezes the tonnes; POST /api/market/negotiated/{id}/confirmation (that buyer, before the deadline)
/// freezes the cost, makes the trade and settles it; DELETE /api/market/negotiated/{id} (the seller) withdraws an
/// unconfirmed deal; GET /api/market/negotiated and /{id} (the two sides, the exchange, the regulator). Unconfirmed
/// deals expire at the deadline and give their tonnes back. The band (around the same centre as public bidding), the
/// smallest size and the time to confirm are Ets:Market settings.
/// </summary>
public sealed class NegotiatedEndpoints : IHttpFunction
{
    /// <summary>A proposal; <c>lot</c> only for BCER, the lot delivered.</summary>
    public sealed record ProposeRequest(string? ClientId, string? Buyer, string? Product, int Vintage, decimal Price, Tonnes Quantity, string? Lot = null);

    public sealed record Services([FromServices] NegotiatedStore Deals, [FromServices] NegotiatedSettlement Settlement, [FromServices] MarketChecks Checks, [FromServices] FundsStore Funds, [FromServices] MarketSettings Settings, [FromServices] AuditLog Audit, [FromServices] TimeProvider Clock);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/market/negotiated", ProposeAsync).WithTags("Market");
        api.MapPost("/market/negotiated/{id}/confirmation", ConfirmAsync).WithTags("Market");
        api.MapDelete("/market/negotiated/{id}", WithdrawAsync).WithTags("Market");
        api.MapGet("/market/negotiated", ListAsync).WithTags("Market");
        api.MapGet("/market/negotiated/{id}", GetAsync).WithTags("Market");
    }

    private static async Task<Results<Created<DealView>, Ok<DealView>, ProblemHttpResult>> ProposeAsync(
        ProposeRequest request, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var seller = MarketAccess.Trader(http.User);
        if (seller is null) return Problems.Forbidden("A negotiated transfer is proposed by the seller, a unit or participant, for its own account.");
        var problems = Validate(request, seller, services.Settings);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var buyer = request.Buyer!.Trim().ToUpperInvariant();
        var book = new BookKey(request.Product!, request.Vintage);
        var now = services.Clock.GetUtcNow();
        var asked = new NegotiatedDeal(NegotiatedDeal.NewId(seller), request.ClientId!, seller, buyer, book.Product, book.Vintage, request.Price, request.Quantity.Value,
            services.Settings.BuyerFeeFen(request.Price, request.Quantity.Value), services.Settings.SellerFeeFen(request.Price, request.Quantity.Value),
            DealStatus.Pending, null, now, now + services.Settings.NegotiatedConfirmationTime, null, now, request.Lot?.Trim());

        var earlier = await services.Deals.FindByClientIdAsync(seller, asked.ClientId, cancellationToken);
        if (earlier is { } found)
        {
            if (!found.Deal.SameRequest(asked)) return Problems.Conflict($"clientId {asked.ClientId} was already used for a different deal ({found.Deal.Id}).");
            if (found.Deal.Status != DealStatus.Pending) return AuditLog.Replayed(http, TypedResults.Ok(DealView.Of(found.Deal)));
        }
        else
        {
            var refused = await services.Checks.TradableAsync(book, cancellationToken)
                ?? await services.Checks.HasAccountAsync(seller, cancellationToken)
                ?? await services.Checks.HasAccountAsync(buyer, cancellationToken)
                ?? await services.Checks.InBandAsync(book, request.Price, services.Settings.NegotiatedBandPercent, cancellationToken)
                ?? await services.Checks.MaySellAsync(seller, cancellationToken)
                ?? await services.Checks.HoldingsCoverAsync(seller, book, asked.Quantity, asked.Lot, cancellationToken);
            if (refused is not null) return refused;
            if (!await services.Deals.TryAddAsync(asked, cancellationToken)) return Problems.Conflict($"clientId {asked.ClientId} is being proposed by another request; ask again.");
        }
        var (deal, etag) = earlier ?? (await services.Deals.FindAsync(asked.Id, cancellationToken))!.Value;

        var refusal = await services.Settlement.FreezeHoldingsAsync(deal, cancellationToken);
        var proposed = refusal is null
            ? deal with { Status = DealStatus.AwaitingConfirmation, UpdatedAt = services.Clock.GetUtcNow() }
            : deal with { Status = DealStatus.Rejected, Reason = refusal, UpdatedAt = services.Clock.GetUtcNow() };
        if (!await services.Deals.TryReplaceAsync(proposed, etag, cancellationToken))
        {
            // Expired by the sweep meanwhile (which gave the tonnes back), or proposed again in parallel: say where it stands.
            return AuditLog.Replayed(http, TypedResults.Ok(DealView.Of((await services.Deals.FindAsync(deal.Id, cancellationToken))!.Value.Deal)));
        }
        if (refusal is not null) return Problems.Unprocessable(refusal, new Dictionary<string, object?> { ["id"] = deal.Id });
        await services.Audit.RecordAsync(Actor.From(http.User), "market.negotiated-proposed", $"market/negotiated/{deal.Id}", null, DealView.Of(proposed), cancellationToken);
        return earlier is null
            ? TypedResults.Created($"/api/market/negotiated/{deal.Id}", DealView.Of(proposed))
            : TypedResults.Ok(DealView.Of(proposed));
    }

    private static List<string> Validate(ProposeRequest request, string seller, MarketSettings settings)
    {
        var problems = new List<string>();
        if (!MarketChecks.IsClientId(request.ClientId)) problems.Add("clientId must be 1 to 64 letters, digits, '-', '_' or '.'; it makes proposing the deal idempotent.");
        if (request.Buyer is null || !UnitInput.TryParse(request.Buyer, out _, out _)) problems.Add("buyer must be the buyer's unified social credit code (18 characters).");
        else if (string.Equals(request.Buyer.Trim(), seller, StringComparison.OrdinalIgnoreCase)) problems.Add("buyer is the seller itself; a negotiated transfer is between two participants.");
        if (request.Product is not (Products.Bea or Products.Bcer)) problems.Add($"product must be {Products.Bea} or {Products.Bcer}.");
        if (TransactionRules.VintageProblem(request.Vintage) is { } vintageProblem) problems.Add(vintageProblem);
        if (MarketChecks.PriceProblem("price", request.Price) is { } priceProblem) problems.Add(priceProblem);
        if (MarketChecks.QuantityProblem(request.Quantity.Value) is { } quantityProblem) problems.Add(quantityProblem);
        else if (request.Quantity.Value < settings.NegotiatedMinimumTonnes) problems.Add($"quantity is {request.Quantity.Value} t; a negotiated transfer is at least {settings.NegotiatedMinimumTonnes} t (smaller trades go through public bidding).");
        if (MarketChecks.LotProblem(request.Product, delivers: true, request.Lot) is { } lotProblem) problems.Add(lotProblem);
        return problems;
    }

    private static async Task<Results<Ok<DealView>, ProblemHttpResult>> ConfirmAsync(
        string id, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        if (await FindAsPartyAsync(id, trader, services.Deals, cancellationToken) is not var (deal, etag)) return ProblemHandling.NotFound($"No negotiated deal {id} that you may see.");
        if (deal.Buyer != trader) return Problems.Forbidden($"Only the buyer named in deal {id}, {deal.Buyer}, can confirm it.");
        if (deal.Status == DealStatus.Confirmed) return AuditLog.Replayed(http, TypedResults.Ok(DealView.Of(deal)));
        var now = services.Clock.GetUtcNow();
        // Past the deadline is one answer, whether or not the expiry sweep has marked the deal yet.
        if (deal.Status == DealStatus.Expired || (deal.IsOpen && now > deal.ConfirmBy)) return Problems.Unprocessable($"Deal {id} had to be confirmed by {deal.ConfirmBy:u}; it has expired and its tonnes go back to the seller.");
        if (!deal.IsOpen) return Problems.Conflict($"Deal {id} is {DealView.Of(deal).Status}; it can no longer be confirmed.");
        if (deal.Status == DealStatus.Pending) return Problems.Conflict($"Deal {id} is still being proposed (the seller's tonnes are being frozen); confirm again in a moment.");
        if (await services.Checks.FundsCoverAsync(trader, deal.BuyerCostFen, $"deal {id}", cancellationToken) is { } uncovered) return uncovered;

        var freeze = new FundsMovement(deal.BuyerFreezeId, FundsMovementKind.Freeze, deal.BuyerCostFen, deal.Id, now);
        var (outcome, _, refusal) = await services.Funds.ApplyAsync(trader, freeze, cancellationToken);
        if (outcome == FundsOutcome.Refused) return Problems.Unprocessable($"Insufficient funds for deal {id}: {refusal}");
        var confirmed = deal with { Status = DealStatus.Confirmed, ConfirmedAt = now, UpdatedAt = now };
        if (!await services.Deals.TryReplaceAsync(confirmed, etag, cancellationToken))
        {
            var current = (await services.Deals.FindAsync(id, cancellationToken))!.Value.Deal;
            if (current.Status == DealStatus.Confirmed) return AuditLog.Replayed(http, TypedResults.Ok(DealView.Of(current)));
            // Withdrawn or expired while confirming: the funds frozen just now go back.
            await services.Settlement.ReleaseAsync(current, cancellationToken);
            return Problems.Conflict($"Deal {id} was {DealView.Of(current).Status} while you confirmed it; nothing was traded and your funds are free again.");
        }
        await services.Audit.RecordAsync(Actor.From(http.User), "market.negotiated-confirmed", $"market/negotiated/{id}", DealView.Of(deal), DealView.Of(confirmed), cancellationToken);
        try
        {
            await services.Settlement.SettleAsync(confirmed, cancellationToken);
        }
        catch (Exception error) when (error is RequestFailedException or InvalidOperationException)
        {
            // The trade is made; the sweep finishes its settlement within a minute.
            http.RequestServices.GetRequiredService<ILogger<NegotiatedEndpoints>>().LogWarning(error, "Deal {Deal} confirmed; settlement left to the sweep", id);
        }
        return TypedResults.Ok(DealView.Of(confirmed));
    }

    private static async Task<Results<Ok<DealView>, ProblemHttpResult>> WithdrawAsync(
        string id, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        if (await FindAsPartyAsync(id, trader, services.Deals, cancellationToken) is not var (deal, etag)) return ProblemHandling.NotFound($"No negotiated deal {id} that you may see.");
        if (deal.Seller != trader) return Problems.Forbidden($"Only the seller, {deal.Seller}, can withdraw deal {id}.");
        if (deal.Status == DealStatus.Withdrawn) return AuditLog.Replayed(http, TypedResults.Ok(DealView.Of(deal)));
        if (!deal.IsOpen) return Problems.Conflict($"Deal {id} is {DealView.Of(deal).Status}; it can no longer be withdrawn.");
        var withdrawn = deal with { Status = DealStatus.Withdrawn, Reason = "withdrawn by the seller", UpdatedAt = services.Clock.GetUtcNow() };
        if (!await services.Deals.TryReplaceAsync(withdrawn, etag, cancellationToken)) return Problems.Conflict($"Deal {id} changed while you withdrew it; look at it again.");
        await services.Settlement.ReleaseAsync(withdrawn, cancellationToken);
        await services.Audit.RecordAsync(Actor.From(http.User), "market.negotiated-withdrawn", $"market/negotiated/{id}", DealView.Of(deal), DealView.Of(withdrawn), cancellationToken);
        return TypedResults.Ok(DealView.Of(withdrawn));
    }

    private static async Task<Ok<IReadOnlyList<DealView>>> ListAsync(HttpContext http, NegotiatedStore deals, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<DealView>>((await deals.ListAsync(MarketAccess.Trader(http.User), cancellationToken)).Select(DealView.Of).ToList());

    private static async Task<Results<Ok<DealView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, NegotiatedStore deals, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        return await deals.FindAsync(id, cancellationToken) is var (deal, _) && (trader is null || deal.Buyer == trader || deal.Seller == trader)
            ? TypedResults.Ok(DealView.Of(deal))
            : ProblemHandling.NotFound($"No negotiated deal {id} that you may see.");
    }

    /// <summary>The deal, if the trader is its buyer or seller; anyone else never learns whether it exists.</summary>
    private static async Task<(NegotiatedDeal Deal, ETag ETag)?> FindAsPartyAsync(string id, string? trader, NegotiatedStore deals, CancellationToken cancellationToken) =>
        await deals.FindAsync(id, cancellationToken) is var (deal, etag) && (deal.Buyer == trader || deal.Seller == trader) ? (deal, etag) : null;
}
