using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Market;

/// <summary>A trade as published: <c>method</c> is bidding, negotiated or auction (Art. 19); <c>lot</c> the BCER lot delivered.</summary>
public sealed record TradeView(string TradeId, string Product, int Vintage, string Buyer, string Seller, decimal Price, long Quantity, DateTimeOffset At, bool Settled, string Method, string? Lot)
{
    public static TradeView Of(Trade t, bool settled) => new($"{t.Product}-{t.Vintage}-{t.TradeId}", t.Product, t.Vintage, t.Buyer, t.Seller, t.Price, t.Quantity, t.At, settled, t.MethodName, t.Lot);
}

public sealed record DailyBar(DateOnly Date, decimal Open, decimal High, decimal Low, decimal Close, decimal Vwap, long Volume, decimal Turnover)
{
    /// <summary>One bar per Beijing trading day with trades, oldest first.</summary>
    public static IReadOnlyList<DailyBar> From(IEnumerable<Trade> trades) => trades
        .GroupBy(t => BeijingTime.DateOf(t.At)).OrderBy(g => g.Key)
        .Select(g =>
        {
            var day = g.OrderBy(t => t.At).ThenBy(t => t.TradeId, StringComparer.Ordinal).ToList();
            var volume = day.Sum(t => t.Quantity);
            var turnover = day.Sum(t => PriceRules.Turnover(t.Price, t.Quantity));
            return new DailyBar(g.Key, day[0].Price, day.Max(t => t.Price), day.Min(t => t.Price), day[^1].Price,
                decimal.Round(turnover / volume, 2, MidpointRounding.AwayFromZero), volume, turnover);
        }).ToList();
}

/// <summary>
/// The exchange's prices and the public market data (Art. 18): PUT /api/market/{product}/reference-price (exchange),
/// GET /api/market/fees, /api/market/{product}/daily and /api/market/{product}/book (public, no token), and
/// GET /api/market/trades (exchange, regulator; a participant sees its own).
/// </summary>
public sealed class MarketDataEndpoints : IHttpFunction
{
    public sealed record ReferenceRequest(int Vintage, decimal Price);

    public sealed record FeeSchedule(string Basis, decimal BuyerPercent, decimal SellerPercent, decimal BandPercent, decimal Tick);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPut("/market/{product}/reference-price", SetReferenceAsync).WithTags("Market");
        api.MapGet("/market/fees", (MarketSettings settings) => TypedResults.Ok(new FeeSchedule(
            "per side, percent of turnover, rounded half up to the fen", settings.BuyerFeePercent, settings.SellerFeePercent, settings.BandPercent, PriceRules.Tick)))
            .WithTags("Market");
        api.MapGet("/market/{product}/daily", DailyAsync).WithTags("Market");
        api.MapGet("/market/{product}/book", BookAsync).WithTags("Market");
        api.MapGet("/market/trades", TradesAsync).WithTags("Market");
    }

    private static async Task<Results<Ok<ReferencePrice>, ProblemHttpResult>> SetReferenceAsync(
        string product, ReferenceRequest request, HttpContext http, BookJournal journal, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (product is not (Products.Bea or Products.Bcer)) return ProblemHandling.NotFound($"No market for {product}; the products are {Products.Bea} and {Products.Bcer}.");
        if (TransactionRules.VintageProblem(request.Vintage) is { } vintageProblem) return ProblemHandling.BadRequest(vintageProblem);
        // Capped like an order's price: a band around a price no order may carry would be meaningless.
        if (MarketChecks.PriceProblem("price", request.Price) is { } priceProblem) return ProblemHandling.BadRequest(priceProblem);
        var book = new BookKey(product, request.Vintage);
        var before = await journal.ReferenceAsync(book, cancellationToken);
        var reference = new ReferencePrice(request.Price, clock.GetUtcNow(), Actor.From(http.User).Id);
        await journal.SetReferenceAsync(book, reference, cancellationToken);
        await audit.RecordAsync(Actor.From(http.User), "market.reference-price-set", $"market/{book}", before, reference, cancellationToken);
        return TypedResults.Ok(reference);
    }

    private static async Task<Results<Ok<IReadOnlyList<DailyBar>>, ProblemHttpResult>> DailyAsync(
        string product, int? vintage, DateOnly? from, DateOnly? to, BookJournal journal, CancellationToken cancellationToken)
    {
        if (product is not (Products.Bea or Products.Bcer)) return ProblemHandling.NotFound($"No market for {product}.");
        if (from > to) return ProblemHandling.BadRequest("from is after to.");
        // The bars are the public bidding's prices, which set the band; negotiated and auction trades are listed in /trades.
        var trades = (await TradesOfAsync(journal, product, vintage, cancellationToken)).Where(t => t.Trade.MethodName == TradeMethods.Bidding);
        var bars = DailyBar.From(trades.Select(t => t.Trade)).Where(b => (from is null || b.Date >= from) && (to is null || b.Date <= to)).ToList();
        return TypedResults.Ok<IReadOnlyList<DailyBar>>(bars);
    }

    private static async Task<Results<Ok<BookDepth>, ProblemHttpResult>> BookAsync(string product, int vintage, BookJournal journal, CancellationToken cancellationToken)
    {
        if (product is not (Products.Bea or Products.Bcer)) return ProblemHandling.NotFound($"No market for {product}.");
        var depth = await journal.DepthAsync(new BookKey(product, vintage), cancellationToken);
        return TypedResults.Ok(depth ?? new BookDepth(product, vintage, [], [], 0, null));
    }

    private static async Task<Results<Ok<IReadOnlyList<TradeView>>, ProblemHttpResult>> TradesAsync(
        string? product, int? vintage, DateOnly? date, HttpContext http, BookJournal journal, CancellationToken cancellationToken)
    {
        if (product is not null && product is not (Products.Bea or Products.Bcer)) return ProblemHandling.BadRequest($"product must be {Products.Bea} or {Products.Bcer}.");
        var trader = MarketAccess.Trader(http.User);
        var trades = new List<(Trade Trade, bool Settled)>();
        foreach (var p in product is null ? new[] { Products.Bea, Products.Bcer } : [product]) trades.AddRange(await TradesOfAsync(journal, p, vintage, cancellationToken));
        var visible = trades
            .Where(t => trader is null || t.Trade.Buyer == trader || t.Trade.Seller == trader)
            .Where(t => date is null || BeijingTime.DateOf(t.Trade.At) == date)
            // In the order matched: by book, then by sequence (the trade id), which is the one order that is true.
            .OrderBy(t => t.Trade.Product, StringComparer.Ordinal).ThenBy(t => t.Trade.Vintage).ThenBy(t => t.Trade.TradeId, StringComparer.Ordinal)
            .Select(t => TradeView.Of(t.Trade, t.Settled)).ToList();
        return TypedResults.Ok<IReadOnlyList<TradeView>>(visible);
    }

    private static async Task<IReadOnlyList<(Trade Trade, bool Settled)>> TradesOfAsync(BookJournal journal, string product, int? vintage, CancellationToken cancellationToken)
    {
        var books = vintage is { } v ? [new BookKey(product, v)] : (await journal.BooksAsync(cancellationToken)).Where(b => b.Product == product).ToList();
        var all = new List<(Trade, bool)>();
        foreach (var book in books) all.AddRange(await journal.TradesAsync(book, cancellationToken));
        return all;
    }
}
