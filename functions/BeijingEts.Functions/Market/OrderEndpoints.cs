using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;
using Microsoft.AspNetCore.Mvc;

namespace BeijingEts.Functions.Market;

/// <summary>An order as its participant sees it; <c>sequence</c> is its place in the book's one matching order, set once matched.</summary>
public sealed record OrderView(string OrderId, string ClientOrderId, string Participant, string Product, int Vintage, string Side, decimal Price, long Quantity,
    long Filled, string Status, string? Reason, decimal Frozen, DateTimeOffset PlacedAt, DateTimeOffset UpdatedAt, long? Sequence, string? Lot)
{
    public static OrderView Of(MarketOrder o) => new(o.OrderId, o.ClientOrderId, o.Participant, o.Product, o.Vintage, o.Side.ToString().ToLowerInvariant(), o.Price, o.Quantity,
        o.Filled, JsonNamingPolicy.KebabCaseLower.ConvertName(o.Status.ToString()), o.Reason, Money.ToYuan(o.FrozenFen), o.PlacedAt, o.UpdatedAt, o.Sequence, o.Lot);
}

/// <summary>
/// Public bidding (公开竞价, Art. 19): POST /api/market/orders places an order for the caller's own account (a unit's
/// token for its account, or a participant's); DELETE /api/market/orders/{id} cancels what is left of it;
/// GET /api/market/orders[?status=] and /{id}. Placing freezes what the order may need (a buy: price × quantity + fee;
/// a sell: the tonnes, into the holder's frozen account), then appends it to its book's sequence for the matcher.
/// </summary>
public sealed class OrderEndpoints : IHttpFunction
{
    /// <summary>The reason an order its own participant cancelled carries (surveillance counts these).</summary>
    public const string CancelledByParticipant = "cancelled by the participant";

    /// <summary>An order; <c>lot</c> only on a BCER sell order, the lot it delivers (a BCER buy takes any lot).</summary>
    public sealed record PlaceRequest(string? ClientOrderId, string? Product, int Vintage, string? Side, decimal Price, Tonnes Quantity, string? Lot = null);

    public sealed record Services([FromServices] OrderStore Orders, [FromServices] OrderPlacement Placement, [FromServices] MarketChecks Checks, [FromServices] MarketSettings Settings, [FromServices] TimeProvider Clock);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/market/orders", PlaceAsync).WithTags("Market");
        api.MapDelete("/market/orders/{orderId}", CancelAsync).WithTags("Market");
        api.MapGet("/market/orders", ListAsync).WithTags("Market");
        api.MapGet("/market/orders/{orderId}", GetAsync).WithTags("Market");
    }

    private static async Task<Results<Created<OrderView>, Ok<OrderView>, ProblemHttpResult>> PlaceAsync(
        PlaceRequest request, HttpContext http, [AsParameters] Services services, AuditLog audit, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        if (trader is null) return Problems.Forbidden("Orders are placed by a unit or participant for its own account.");
        var placed = await PlaceForAsync(trader, request, services, cancellationToken);
        if (placed.Result is Created<OrderView> { Value: { } order }) await audit.RecordAsync(Actor.From(http.User), "market.order-placed", $"market/orders/{order.OrderId}", null, order, cancellationToken);
        return placed.Result is Ok<OrderView> ? AuditLog.Replayed(http, placed) : placed; // the same clientOrderId again: placed and recorded before
    }

    /// <summary>Places the order for <paramref name="trader"/>: a unit or participant, or the reserve for a buy-back.</summary>
    internal static async Task<Results<Created<OrderView>, Ok<OrderView>, ProblemHttpResult>> PlaceForAsync(
        string trader, PlaceRequest request, Services services, CancellationToken cancellationToken)
    {
        var problems = Validate(request);
        if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
        var side = request.Side == "buy" ? Side.Buy : Side.Sell;
        var book = new BookKey(request.Product!, request.Vintage);

        var now = services.Clock.GetUtcNow();
        var frozenFen = side == Side.Buy ? services.Settings.BuyHoldFen(request.Price, request.Quantity.Value) : 0;
        var asked = new MarketOrder($"{book}-{Guid.NewGuid():N}"[..(book.ToString().Length + 17)], request.ClientOrderId!, trader, book.Product, book.Vintage, side,
            request.Price, request.Quantity.Value, 0, OrderStatus.Open, null, frozenFen, now, now, Lot: request.Lot?.Trim());
        // Nothing is read first: a new order is checked and added, and a retry finds the order placed before under its
        // clientOrderId when its Add fails, or when the checks refuse it (what the first request froze may be what
        // the cover check now misses). Refused here, nothing is written; a race lost later is still refused by the
        // freeze itself, with the order recorded rejected.
        var refused = await CheckMarketAsync(book, request.Price, trader, services, cancellationToken)
            ?? await CheckCoverAsync(asked, services, cancellationToken);
        (MarketOrder Order, ETag ETag)? earlier = refused is null && await services.Orders.AddAsync(asked, cancellationToken) is { } added
            ? (asked, added)
            : await services.Orders.FindByClientIdAsync(trader, request.ClientOrderId!, cancellationToken);
        var isNew = earlier is { Order: var o } && ReferenceEquals(o, asked);
        if (earlier is null)
        {
            return refused ?? Problems.Conflict($"clientOrderId {asked.ClientOrderId} is being placed by another request; ask again.");
        }
        if (!isNew)
        {
            var found = earlier.Value;
            if (!found.Order.SameRequest(asked)) return Problems.Conflict($"clientOrderId {asked.ClientOrderId} was already used for a different order ({found.Order.OrderId}).");
            if (found.Order.Status != OrderStatus.Pending && found.Order.Status != OrderStatus.Open) return TypedResults.Ok(OrderView.Of(found.Order));
        }
        var (order, etag) = earlier.Value;
        var (placed, refusal) = await services.Placement.ContinueAsync(order, etag, cancellationToken, recordedNow: isNew);
        if (placed is null) return Problems.Conflict($"Order {order.OrderId} is being placed by another request; ask again.");
        if (refusal is not null) return Problems.Unprocessable(refusal, new Dictionary<string, object?> { ["orderId"] = order.OrderId });
        order = placed;
        return isNew
            ? TypedResults.Created($"/api/market/orders/{order.OrderId}", OrderView.Of(order))
            : TypedResults.Ok(OrderView.Of(order));
    }

    private static List<string> Validate(PlaceRequest request)
    {
        var problems = new List<string>();
        if (!MarketChecks.IsClientId(request.ClientOrderId)) problems.Add("clientOrderId must be 1 to 64 letters, digits, '-', '_' or '.'; it makes placing the order idempotent.");
        if (request.Product is not (Products.Bea or Products.Bcer)) problems.Add($"product must be {Products.Bea} or {Products.Bcer}.");
        if (TransactionRules.VintageProblem(request.Vintage) is { } vintageProblem) problems.Add(vintageProblem);
        if (request.Side is not ("buy" or "sell")) problems.Add("side must be buy or sell.");
        if (MarketChecks.PriceProblem("price", request.Price) is { } priceProblem) problems.Add(priceProblem);
        if (MarketChecks.QuantityProblem(request.Quantity.Value) is { } quantityProblem) problems.Add(quantityProblem);
        if (request.Side is "buy" or "sell" && MarketChecks.LotProblem(request.Product, request.Side == "sell", request.Lot) is { } lotProblem) problems.Add(lotProblem);
        return problems;
    }

    /// <summary>What the market's state can refuse: an unknown vintage, no reference price yet, a price outside the band, an unknown account.</summary>
    private static async Task<ProblemHttpResult?> CheckMarketAsync(BookKey book, decimal price, string trader, Services services, CancellationToken cancellationToken) =>
        await services.Checks.TradableAsync(book, cancellationToken)
        ?? (trader == RegulatorAccounts.Reserve ? null : await services.Checks.HasAccountAsync(trader, cancellationToken))
        ?? await services.Checks.InBandAsync(book, price, services.Settings.BandPercent, cancellationToken);

    /// <summary>Whether the funds, or the holdings and a seller not suspended, are there to freeze: checked before anything is written.</summary>
    private static async Task<ProblemHttpResult?> CheckCoverAsync(MarketOrder order, Services services, CancellationToken cancellationToken) =>
        order.Side == Side.Buy
            ? await services.Checks.FundsCoverAsync(order.Participant, order.FrozenFen, "this buy order", cancellationToken, kept: true)
            : await services.Checks.SellerCoversAsync(order.Participant, order.Book, order.Quantity, order.Lot, cancellationToken);

    private static async Task<Results<Accepted<OrderView>, ProblemHttpResult>> CancelAsync(
        string orderId, HttpContext http, OrderStore orders, BookJournal journal, MarketMatcher matcher, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        if (trader is null) return ProblemHandling.NotFound($"You have no order {orderId}.");
        var cancelled = await CancelForAsync(trader, orderId, orders, journal, matcher, clock, cancellationToken);
        if (cancelled.Result is Accepted<OrderView> { Value: { } order }) await audit.RecordAsync(Actor.From(http.User), "market.order-cancel-requested", $"market/orders/{orderId}", order, null, cancellationToken);
        return cancelled;
    }

    /// <summary>Cancels what is left of <paramref name="trader"/>'s order, in its book's sequence.</summary>
    internal static async Task<Results<Accepted<OrderView>, ProblemHttpResult>> CancelForAsync(
        string trader, string orderId, OrderStore orders, BookJournal journal, MarketMatcher matcher, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await orders.FindAsync(trader, orderId, cancellationToken) is not var (order, _)) return ProblemHandling.NotFound($"There is no order {orderId} of {trader}.");
        if (order.IsFinal) return Problems.Conflict($"Order {orderId} is {OrderView.Of(order).Status}; nothing is left to cancel.");
        await journal.AppendAsync(order.Book, new BookCommand(0, BookCommandKind.Cancel, orderId, trader, clock.GetUtcNow(), Reason: trader == RegulatorAccounts.Reserve ? "cancelled by the regulator" : CancelledByParticipant), cancellationToken);
        await matcher.RequestAsync(order.Book, cancellationToken);
        return TypedResults.Accepted($"/api/market/orders/{orderId}", OrderView.Of(order));
    }

    private static async Task<Results<Ok<IReadOnlyList<OrderView>>, ProblemHttpResult>> ListAsync(string? status, HttpContext http, OrderStore orders, CancellationToken cancellationToken)
    {
        OrderStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.TryParse<OrderStatus>(status.Replace("-", ""), ignoreCase: true, out var parsed)) return ProblemHandling.BadRequest("status must be pending, open, partially-filled, filled, cancelled or rejected.");
            wanted = parsed;
        }
        var trader = MarketAccess.Trader(http.User);
        var list = await orders.ListAsync(trader, wanted, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<OrderView>>(list.Select(OrderView.Of).ToList());
    }

    private static async Task<Results<Ok<OrderView>, ProblemHttpResult>> GetAsync(string orderId, HttpContext http, OrderStore orders, CancellationToken cancellationToken)
    {
        var trader = MarketAccess.Trader(http.User);
        var found = trader is not null
            ? (await orders.FindAsync(trader, orderId, cancellationToken))?.Order
            : await orders.FindAnyAsync(orderId, cancellationToken);
        return found is null ? ProblemHandling.NotFound($"No order {orderId} that you may see.") : TypedResults.Ok(OrderView.Of(found));
    }
}
