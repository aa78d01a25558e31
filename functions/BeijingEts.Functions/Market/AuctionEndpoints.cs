using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using Microsoft.AspNetCore.Mvc;

namespace BeijingEts.Functions.Market;

public sealed record AuctionView(string Id, string Product, int Vintage, long Quantity, decimal ReservePrice, DateTimeOffset OpensAt, DateTimeOffset ClosesAt,
    decimal MaxSharePerBidder, long MaxPerBidder, string Status, decimal? ClearingPrice, long Sold, long Unsold, DateTimeOffset? ClearedAt,
    IReadOnlyList<AuctionAwardRecord>? Awards)
{
    /// <summary>The awards are the regulator's and exchange's to see whole; a bidder sees its own.</summary>
    public static AuctionView Of(PaidAuction a, DateTimeOffset now, string? trader) => new(a.Id, a.Product, a.Vintage, a.Quantity, a.ReservePrice, a.OpensAt, a.ClosesAt,
        a.MaxSharePerBidder, a.MaxPerBidder, a.Phase(now), a.ClearingPrice, a.Sold, a.Unsold, a.ClearedAt,
        a.Awards?.Where(w => trader is null || w.Bidder == trader).ToList());
}

public sealed record BidView(string BidId, string AuctionId, string Bidder, string ClientBidId, decimal Price, long Quantity, decimal Frozen, string Status,
    string? Reason, long Awarded, DateTimeOffset PlacedAt)
{
    public static BidView Of(AuctionBid b) => new(b.BidId, b.AuctionId, b.Bidder, b.ClientBidId, b.Price, b.Quantity, Money.ToYuan(b.FrozenFen),
        b.Status.ToString().ToLowerInvariant(), b.Reason, b.Awarded, b.PlacedAt);
}

/// <summary>
/// Paid auctions (有偿竞价, Art. 12, 19-20): POST /api/auctions (regulator) announces one, checked against what the
/// year's reserve holds; GET /api/auctions and /{id} (anyone signed in; the awards only to the regulator, the exchange
/// and each bidder for its own); POST /api/auctions/{id}/bids (units and participants, sealed, funds frozen at the
/// bid's price); GET /api/auctions/{id}/bids (a bidder its own; the regulator and exchange all, once bidding closed).
/// The <see cref="ClearAuctions"/> timer clears and settles each auction after it closes.
/// </summary>
public sealed class AuctionEndpoints : IHttpFunction
{
    public sealed record CreateRequest(string? Product, int Vintage, Tonnes Quantity, decimal ReservePrice, DateTimeOffset OpensAt, DateTimeOffset ClosesAt,
        decimal MaxSharePerBidder, string? ClientId = null);

    public sealed record BidRequest(decimal Price, Tonnes Quantity, string? ClientBidId = null);

    public sealed record Services([FromServices] AuctionStore Auctions, [FromServices] ReserveBudget Reserve, [FromServices] MarketChecks Checks, [FromServices] FundsStore Funds, [FromServices] MarketSettings Settings, [FromServices] AuditLog Audit, [FromServices] TimeProvider Clock);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/auctions", CreateAsync).WithTags("Market");
        api.MapGet("/auctions", ListAsync).WithTags("Market");
        api.MapGet("/auctions/{id}", GetAsync).WithTags("Market");
        api.MapPost("/auctions/{id}/bids", BidAsync).WithTags("Market");
        api.MapGet("/auctions/{id}/bids", BidsAsync).WithTags("Market");
    }

    private static async Task<Results<Created<AuctionView>, Ok<AuctionView>, ProblemHttpResult>> CreateAsync(
        CreateRequest request, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var now = services.Clock.GetUtcNow();
        var problems = new List<string>();
        if (request.ClientId is not null && !MarketChecks.IsClientId(request.ClientId)) problems.Add("clientId, if given, is 1 to 64 letters, digits, '-', '_' or '.'; it makes announcing the auction idempotent.");
        if (request.Product != Products.Bea) problems.Add($"product must be {Products.Bea}: a paid auction sells allowances from the reserve (Art. 12).");
        if (TransactionRules.VintageProblem(request.Vintage) is { } vintageProblem) problems.Add(vintageProblem);
        if (MarketChecks.QuantityProblem(request.Quantity.Value, capped: false) is { } quantityProblem) problems.Add(quantityProblem);
        if (MarketChecks.PriceProblem("reservePrice", request.ReservePrice, capped: false) is { } reserveProblem) problems.Add(reserveProblem);
        if (request.OpensAt == default || request.ClosesAt == default) problems.Add("opensAt and closesAt are required (ISO 8601 with an offset, e.g. 2026-12-01T09:30:00+08:00).");
        else if (request.ClosesAt <= request.OpensAt) problems.Add("closesAt must be after opensAt.");
        else if (request.ClosesAt <= now) problems.Add($"closesAt {request.ClosesAt:O} has passed.");
        var share = request.MaxSharePerBidder > 1 && request.MaxSharePerBidder <= 100 ? request.MaxSharePerBidder / 100 : request.MaxSharePerBidder;
        if (share <= 0 || share > 1) problems.Add("maxSharePerBidder is the most one bidder may bid for: a fraction of the quantity above 0 and at most 1 (0.2), or a percent up to 100 (20).");
        else if (request.Quantity.Value > 0 && decimal.Floor(request.Quantity.Value * share) < 1) problems.Add("maxSharePerBidder leaves each bidder less than 1 t.");
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });

        var id = request.ClientId is { } clientId ? $"{request.Vintage}-{clientId}" : $"{request.Vintage}-{Guid.NewGuid():N}"[..17];
        var auction = new PaidAuction(id, request.ClientId, Products.Bea, request.Vintage, request.Quantity.Value, request.ReservePrice, request.OpensAt, request.ClosesAt,
            share, AuctionStatus.Open, Actor.From(http.User).Id, now);
        if (await services.Auctions.FindAsync(id, cancellationToken) is var (earlier, _))
        {
            return earlier.SameRequest(auction)
                ? AuditLog.Replayed(http, TypedResults.Ok(AuctionView.Of(earlier, now, null)))
                : Problems.Conflict($"clientId {request.ClientId} was already used for a different auction ({id}).");
        }
        // Checked and added as the only announcement for the vintage at the time, so two cannot both count the same tonnes.
        var refused = await services.Reserve.CommitAsync(request.Vintage, async () =>
        {
            var budget = await services.Reserve.ReadAsync(request.Vintage, cancellationToken);
            if (budget.Ceiling is null) return Problems.Unprocessable($"There is no {request.Vintage} allocation plan, so no reserve to auction from (PUT /api/allocation/{request.Vintage}/plan sets it, Art. 12).");
            if (budget.AvailableToAuction < auction.Quantity)
            {
                return Problems.Unprocessable($"The {request.Vintage} reserve cannot cover {auction.Quantity} t: it holds {budget.Held} t, {budget.OfferedInAuctions} t of which are offered in other auctions, so at most {Math.Max(0, budget.AvailableToAuction)} t can be auctioned. " +
                    $"The reserve is at most 5% of the cap (Art. 12; {budget.Ceiling} t this year) and is filled by allocation from issuance.", new Dictionary<string, object?> { ["available"] = Math.Max(0, budget.AvailableToAuction) });
            }
            return await services.Auctions.TryAddAsync(auction, cancellationToken) ? null : Problems.Conflict($"Auction {id} is being announced by another request; ask again.");
        }, cancellationToken);
        if (refused is not null) return refused;
        await services.Audit.RecordAsync(Actor.From(http.User), "market.auction-announced", $"auctions/{id}", null, auction, cancellationToken);
        return TypedResults.Created($"/api/auctions/{id}", AuctionView.Of(auction, now, null));
    }

    private static async Task<Ok<IReadOnlyList<AuctionView>>> ListAsync(HttpContext http, AuctionStore auctions, TimeProvider clock, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        var now = clock.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<AuctionView>>((await auctions.ListAsync(cancellationToken)).Select(a => AuctionView.Of(a, now, trader ?? Viewer(http))).ToList());
    }

    private static async Task<Results<Ok<AuctionView>, ProblemHttpResult>> GetAsync(string id, HttpContext http, AuctionStore auctions, TimeProvider clock, CancellationToken cancellationToken) =>
        await auctions.FindAsync(id, cancellationToken) is var (auction, _)
            ? TypedResults.Ok(AuctionView.Of(auction, clock.GetUtcNow(), MarketAccess.Trader(http.User) ?? Viewer(http)))
            : ProblemHandling.NotFound($"No auction {id}.");

    /// <summary>Null (sees every award) for the regulator and the exchange; anyone else sees none but its own.</summary>
    private static string? Viewer(HttpContext http) => http.User.IsInRole(Roles.Regulator) || http.User.IsInRole(Roles.Exchange) ? null : "";

    private static async Task<Results<Created<BidView>, Ok<BidView>, ProblemHttpResult>> BidAsync(
        string id, BidRequest request, HttpContext http, [AsParameters] Services services, CancellationToken cancellationToken)
    {
        var bidder = MarketAccess.Trader(http.User);
        if (bidder is null) return Problems.Forbidden("Bids are placed by a unit or participant for its own account.");
        var problems = new List<string>();
        if (request.ClientBidId is not null && !MarketChecks.IsClientId(request.ClientBidId)) problems.Add("clientBidId, if given, is 1 to 64 letters, digits, '-', '_' or '.'; it makes placing the bid idempotent.");
        if (MarketChecks.PriceProblem("price", request.Price, capped: false) is { } priceProblem) problems.Add(priceProblem);
        if (MarketChecks.QuantityProblem(request.Quantity.Value, capped: false) is { } quantityProblem) problems.Add(quantityProblem);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var clientBidId = request.ClientBidId ?? Guid.NewGuid().ToString("N");
        var bidId = $"{bidder}-{clientBidId}";

        for (var attempt = 1; ; attempt++)
        {
            if (await services.Auctions.FindAsync(id, cancellationToken) is not var (auction, auctionETag)) return ProblemHandling.NotFound($"No auction {id}.");
            var now = services.Clock.GetUtcNow();
            if (await services.Auctions.FindBidAsync(id, bidId, cancellationToken) is var (earlier, _))
            {
                return earlier.SameRequest(earlier with { Price = request.Price, Quantity = request.Quantity.Value })
                    ? AuditLog.Replayed(http, TypedResults.Ok(BidView.Of(earlier)))
                    : Problems.Conflict($"clientBidId {clientBidId} was already used for a different bid.");
            }
            if (now < auction.OpensAt) return Problems.Unprocessable($"Auction {id} opens for bids at {auction.OpensAt:O}.");
            if (auction.Status != AuctionStatus.Open || now >= auction.ClosesAt) return Problems.Unprocessable($"Auction {id} closed at {auction.ClosesAt:O}; it takes no more bids.");
            if (request.Price < auction.ReservePrice) return Problems.Unprocessable($"price {request.Price} is below the reserve price of {auction.ReservePrice} yuan; such a bid can win nothing.");
            var (total, totalETag) = await services.Auctions.BidderTotalAsync(id, bidder, cancellationToken);
            if (total + request.Quantity.Value > auction.MaxPerBidder)
            {
                return Problems.Unprocessable($"A bidder may bid for at most {auction.MaxPerBidder} t in auction {id} ({auction.MaxSharePerBidder:P0} of {auction.Quantity} t); you have bid for {total} t, so at most {auction.MaxPerBidder - total} t more.",
                    new Dictionary<string, object?> { ["remaining"] = auction.MaxPerBidder - total });
            }
            var frozenFen = services.Settings.BuyHoldFen(request.Price, request.Quantity.Value);
            if ((await services.Checks.HasAccountAsync(bidder, cancellationToken) ?? await services.Checks.FundsCoverAsync(bidder, frozenFen, "this bid", cancellationToken)) is { } refused) return refused;

            var bid = new AuctionBid(bidId, id, bidder, clientBidId, request.Price, request.Quantity.Value, frozenFen, BidStatus.Pending, null, 0, now, now);
            if (!await services.Auctions.TryAddBidAsync(bid, auctionETag, total, totalETag, cancellationToken))
            {
                // Another bid (or the close) changed the auction or this bidder's total since it was read: read again.
                if (attempt >= 50) return Problems.Conflict($"Auction {id} is busy; bid again.");
                await Contention.BackOffAsync(attempt, cancellationToken);
                continue;
            }
            var placed = await FreezeAsync(bid, services, cancellationToken);
            if (placed.Result is Created<BidView> { Value: { } view }) await services.Audit.RecordAsync(Actor.From(http.User), "market.bid-placed", $"auctions/{id}", null, view, cancellationToken);
            return placed;
        }
    }

    /// <summary>Freezes the bid's funds, then confirms it; a bid the close turned away meanwhile gives them back.</summary>
    private static async Task<Results<Created<BidView>, Ok<BidView>, ProblemHttpResult>> FreezeAsync(AuctionBid bid, Services services, CancellationToken cancellationToken)
    {
        var (_, bidETag) = (await services.Auctions.FindBidAsync(bid.AuctionId, bid.BidId, cancellationToken))!.Value;
        var freeze = new FundsMovement(bid.FreezeId, FundsMovementKind.Freeze, bid.FrozenFen, bid.BidId, services.Clock.GetUtcNow());
        var (outcome, _, refusal) = await services.Funds.ApplyAsync(bid.Bidder, freeze, cancellationToken);
        if (outcome == FundsOutcome.Refused)
        {
            var rejected = bid with { Status = BidStatus.Rejected, Reason = refusal, UpdatedAt = services.Clock.GetUtcNow() };
            await services.Auctions.TryRejectBidAsync(rejected, bidETag, cancellationToken);
            return Problems.Unprocessable($"Insufficient funds for this bid ({Money.ToYuan(bid.FrozenFen):0.00} yuan with the fee): {refusal}");
        }
        var active = bid with { Status = BidStatus.Active, UpdatedAt = services.Clock.GetUtcNow() };
        if (!await services.Auctions.TryReplaceBidAsync(active, bidETag, cancellationToken))
        {
            await services.Funds.ApplyAsync(bid.Bidder, new FundsMovement(bid.ReleaseId, FundsMovementKind.Release, bid.FrozenFen, bid.BidId, services.Clock.GetUtcNow()), cancellationToken);
            return Problems.Unprocessable($"Auction {bid.AuctionId} closed while this bid was being placed; it is not in the auction and its funds are free again.");
        }
        return TypedResults.Created($"/api/auctions/{bid.AuctionId}/bids/{bid.BidId}", BidView.Of(active));
    }

    private static async Task<Results<Ok<IReadOnlyList<BidView>>, ProblemHttpResult>> BidsAsync(
        string id, HttpContext http, AuctionStore auctions, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await auctions.FindAsync(id, cancellationToken) is not var (auction, _)) return ProblemHandling.NotFound($"No auction {id}.");
        var trader = MarketAccess.Trader(http.User);
        // Sealed: before the close not even the regulator or the exchange sees the bids.
        if (trader is null && auction.Status == AuctionStatus.Open && clock.GetUtcNow() < auction.ClosesAt)
        {
            return Problems.Forbidden($"Bids in auction {id} are sealed until it closes at {auction.ClosesAt:O}.");
        }
        var bids = (await auctions.BidsAsync(id, cancellationToken)).Select(b => b.Bid).Where(b => trader is null || b.Bidder == trader);
        return TypedResults.Ok<IReadOnlyList<BidView>>(bids.Select(BidView.Of).ToList());
    }
}
