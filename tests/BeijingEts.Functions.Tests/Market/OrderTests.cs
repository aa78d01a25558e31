using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

public sealed class OrderFixture : FastQueueFixture;

/// <summary>Public bidding (Art. 19): orders freeze what they need, match at the resting price, and settle on the ledger and funds accounts.</summary>
public sealed class OrderTests(OrderFixture app) : IClassFixture<OrderFixture>
{
    private readonly MarketClient _market = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACrossingBuy_TradesAtTheRestingPrice_AndSettlesTonnesFundsAndFees()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 100);
        var buyer = await _market.TraderAsync(vintage, yuan: 10_000m);

        var sell = await _market.PlacedAsync(seller, vintage, "sell", 50.00m, 60);
        await _market.OrderWhenAsync(seller, sell, "open");
        Assert.Equal((40L, 60L), await _market.HoldingAsync(seller, vintage)); // frozen, not gone
        var buy = await _market.PlacedAsync(buyer, vintage, "buy", 51.00m, 60);

        var filled = await _market.OrderWhenAsync(buyer, buy, "filled");
        Assert.Equal(60, filled.GetProperty("filled").GetInt64());
        await _market.SettledAsync(vintage, trades: 1);
        var trade = Assert.Single(await _market.TradesAsync(vintage));
        Assert.Equal((buyer, seller, 50.00m, 60L), (trade.GetProperty("buyer").GetString(), trade.GetProperty("seller").GetString(), trade.GetProperty("price").GetDecimal(), trade.GetProperty("quantity").GetInt64()));
        // 3,000.00 turnover; 0.15% fee a side = 4.50.
        await Eventually.HoldsAsync(async () => await _market.FundsAsync(buyer) == (10_000m - 3_004.50m, 0m), "the buyer paid 3,004.50 and got the rest of its frozen funds back");
        Assert.Equal((2_995.50m, 0m), await _market.FundsAsync(seller));
        Assert.Equal((60L, 0L), await _market.HoldingAsync(buyer, vintage));
        Assert.Equal((40L, 0L), await _market.HoldingAsync(seller, vintage));
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ARestingOrder_FreezesItsCost_AndCancellingGivesItBack()
    {
        var vintage = await _market.NewVintageAsync();
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);
        var seller = await _market.TraderAsync(vintage, tonnes: 10);

        var buy = await _market.PlacedAsync(buyer, vintage, "buy", 45.00m, 10);
        var sell = await _market.PlacedAsync(seller, vintage, "sell", 55.00m, 10);
        await _market.OrderWhenAsync(buyer, buy, "open");
        await _market.OrderWhenAsync(seller, sell, "open");
        // 450.00 + 0.68 fee + 0.10 (a fen a tonne for rounding) frozen.
        Assert.Equal((1_000m - 450.78m, 450.78m), await _market.FundsAsync(buyer));
        Assert.Equal((0L, 10L), await _market.HoldingAsync(seller, vintage));

        Assert.Equal(HttpStatusCode.Accepted, (await app.Client("participant", buyer).DeleteAsync($"/api/market/orders/{buy}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client("participant", seller).DeleteAsync($"/api/market/orders/{sell}", Ct)).StatusCode);

        await _market.OrderWhenAsync(buyer, buy, "cancelled");
        await Eventually.HoldsAsync(async () => await _market.FundsAsync(buyer) == (1_000m, 0m), "the buyer's funds are unfrozen");
        await Eventually.HoldsAsync(async () => await _market.HoldingAsync(seller, vintage) == (10L, 0L), "the seller's tonnes are unfrozen");
        await (await app.Client("participant", buyer).DeleteAsync($"/api/market/orders/{buy}", Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task PriceTimePriority_FillsTheBestPriceFirst_ThenTheEarliest_AndLeavesTheRestResting()
    {
        var vintage = await _market.NewVintageAsync();
        var (a, b, c) = (await _market.TraderAsync(vintage, tonnes: 10), await _market.TraderAsync(vintage, tonnes: 10), await _market.TraderAsync(vintage, tonnes: 10));
        var buyer = await _market.TraderAsync(vintage, yuan: 5_000m);
        var first = await _market.PlacedAsync(a, vintage, "sell", 50.00m, 10);
        await _market.OrderWhenAsync(a, first, "open");
        var second = await _market.PlacedAsync(b, vintage, "sell", 50.00m, 10);
        await _market.OrderWhenAsync(b, second, "open");
        var cheaper = await _market.PlacedAsync(c, vintage, "sell", 49.50m, 10);
        await _market.OrderWhenAsync(c, cheaper, "open");

        var buy = await _market.PlacedAsync(buyer, vintage, "buy", 50.00m, 25);
        await _market.OrderWhenAsync(buyer, buy, "filled");

        await _market.SettledAsync(vintage, trades: 3);
        Assert.Equal([(c, 49.50m, 10L), (a, 50.00m, 10L), (b, 50.00m, 5L)],
            (await _market.TradesAsync(vintage)).Select(t => (t.GetProperty("seller").GetString(), t.GetProperty("price").GetDecimal(), t.GetProperty("quantity").GetInt64())));
        var rest = await _market.OrderWhenAsync(b, second, "partially-filled");
        Assert.Equal(5, rest.GetProperty("filled").GetInt64());
        // The depth is written with the book's marker, the last of a matching round's writes: it may trail the trades a moment.
        await Eventually.HoldsAsync(async () =>
        {
            var asks = (await app.Client().GetFromJsonAsync<JsonElement>($"/api/market/BEA/book?vintage={vintage}", Ct)).GetProperty("asks").EnumerateArray().ToList();
            return asks.Count == 1 && (asks[0].GetProperty("price").GetDecimal(), asks[0].GetProperty("quantity").GetInt64()) == (50.00m, 5L);
        }, "the book shows 5 t left at 50.00");
    }

    [Fact]
    public async Task AnOrderThatWouldTradeWithItsOwnRestingOrder_IsRejected_AndItsFundsComeBack()
    {
        var vintage = await _market.NewVintageAsync();
        var trader = await _market.TraderAsync(vintage, tonnes: 10, yuan: 1_000m);
        var sell = await _market.PlacedAsync(trader, vintage, "sell", 50.00m, 10);
        await _market.OrderWhenAsync(trader, sell, "open");

        var buy = await _market.PlacedAsync(trader, vintage, "buy", 50.00m, 5);

        var rejected = await _market.OrderWhenAsync(trader, buy, "rejected");
        Assert.Contains("own resting order", rejected.GetProperty("reason").GetString());
        await Eventually.HoldsAsync(async () => await _market.FundsAsync(trader) == (1_000m, 0m), "the rejected buy's funds are unfrozen");
        Assert.Empty(await _market.TradesAsync(vintage));
        await _market.OrderWhenAsync(trader, sell, "open");
    }

    [Fact]
    public async Task TheSameClientOrderId_PlacesOnce_AndOtherContentUnderIt_IsAConflict()
    {
        var vintage = await _market.NewVintageAsync();
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);

        var first = await _market.PlaceAsync(buyer, vintage, "buy", 40.00m, 5, clientOrderId: "mine-1");
        var again = await _market.PlaceAsync(buyer, vintage, "buy", 40.00m, 5, clientOrderId: "mine-1");
        var other = await _market.PlaceAsync(buyer, vintage, "buy", 40.00m, 6, clientOrderId: "mine-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString(), (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString());
        await other.AssertProblemAsync(HttpStatusCode.Conflict);
        var orders = await app.Client("participant", buyer).GetFromJsonAsync<JsonElement>("/api/market/orders", Ct);
        Assert.Single(orders.EnumerateArray());
        Assert.Equal(1_000m - 200.35m, (await _market.FundsAsync(buyer)).Available); // 200 + 0.30 fee + 0.05 (a fen a tonne)
    }

    [Theory]
    [InlineData("{\"clientOrderId\":\"q0\",\"product\":\"BEA\",\"vintage\":VINTAGE,\"side\":\"buy\",\"price\":50,\"quantity\":0}", "quantity")]
    [InlineData("{\"clientOrderId\":\"q1\",\"product\":\"BEA\",\"vintage\":VINTAGE,\"side\":\"buy\",\"price\":50,\"quantity\":-3}", "quantity")]
    [InlineData("{\"clientOrderId\":\"q2\",\"product\":\"BEA\",\"vintage\":VINTAGE,\"side\":\"buy\",\"price\":50,\"quantity\":1.5}", "quantity")]
    [InlineData("{\"clientOrderId\":\"q3\",\"product\":\"BEA\",\"vintage\":VINTAGE,\"side\":\"buy\",\"price\":50.005,\"quantity\":1}", "tick")]
    [InlineData("{\"clientOrderId\":\"q4\",\"product\":\"XYZ\",\"vintage\":VINTAGE,\"side\":\"buy\",\"price\":50,\"quantity\":1}", "product")]
    [InlineData("{\"clientOrderId\":\"q5\",\"product\":\"BEA\",\"vintage\":VINTAGE,\"side\":\"hold\",\"price\":50,\"quantity\":1}", "side")]
    public async Task MalformedOrders_AreA400_AndNothingIsFrozen(string body, string mentions)
    {
        var vintage = await _market.NewVintageAsync();
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);

        var response = await app.Client("participant", buyer).PostAsync("/api/market/orders",
            new StringContent(body.Replace("VINTAGE", vintage.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Contains(mentions, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal((1_000m, 0m), await _market.FundsAsync(buyer));
        Assert.Empty((await app.Client("participant", buyer).GetFromJsonAsync<JsonElement>("/api/market/orders", Ct)).EnumerateArray());
    }

    [Fact]
    public async Task OrdersTheMarketCannotTake_AreA422_SayingWhy()
    {
        var vintage = await _market.NewVintageAsync(reference: 50.00m);
        var poor = await _market.TraderAsync(vintage, yuan: 10m);
        var empty = await _market.TraderAsync(vintage);

        Assert.Contains("40.00 to 60.00", (await (await _market.PlaceAsync(poor, vintage, "buy", 60.01m, 1)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("40.00 to 60.00", (await (await _market.PlaceAsync(poor, vintage, "buy", 39.99m, 1)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("Insufficient funds", (await (await _market.PlaceAsync(poor, vintage, "buy", 50.00m, 1)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("Insufficient holdings", (await (await _market.PlaceAsync(empty, vintage, "sell", 50.00m, 1)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains("has been issued", (await (await _market.PlaceAsync(poor, 2099, "buy", 50.00m, 1)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal((10m, 0m), await _market.FundsAsync(poor));
        Assert.Empty((await app.Client("participant", poor).GetFromJsonAsync<JsonElement>("/api/market/orders", Ct)).EnumerateArray());
        Assert.Empty((await app.Client("participant", empty).GetFromJsonAsync<JsonElement>("/api/market/orders", Ct)).EnumerateArray());
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ASuspendedAccount_CannotSell()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 10);
        (await _market.Regulator.PostAsJsonAsync($"/api/accounts/{seller}/suspensions", new { reason = "court-freeze", reference = "(2026)京01执123号" }, Ct)).EnsureSuccessStatusCode();

        var problem = await (await _market.PlaceAsync(seller, vintage, "sell", 50.00m, 5)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity);

        Assert.Contains("suspended", problem.Detail);
        Assert.Equal((10L, 0L), await _market.HoldingAsync(seller, vintage));
    }

    [Fact]
    public async Task SuspendingAnAccount_CancelsItsOpenSellOrders_AndGivesBackTheFrozenTonnes()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 30, yuan: 1_000m);
        var sell = await _market.PlacedAsync(seller, vintage, "sell", 55.00m, 20);
        var buy = await _market.PlacedAsync(seller, vintage, "buy", 45.00m, 2);
        await _market.OrderWhenAsync(seller, sell, "open");
        Assert.Equal((10L, 20L), await _market.HoldingAsync(seller, vintage));

        (await _market.Regulator.PostAsJsonAsync($"/api/accounts/{seller}/suspensions", new { reason = "surrender-risk", reference = "京环罚〔2026〕7号" }, Ct)).EnsureSuccessStatusCode();

        var cancelled = await _market.OrderWhenAsync(seller, sell, "cancelled");
        Assert.Contains("suspended", cancelled.GetProperty("reason").GetString());
        await Eventually.HoldsAsync(async () => await _market.HoldingAsync(seller, vintage) == (30L, 0L), "the frozen tonnes are back");
        Assert.Equal("open", (await _market.OrderAsync(seller, buy)).GetProperty("status").GetString()); // it may still buy
        await _market.Ledger.AssertNoDriftAsync();
    }

    /// <summary>Operators (and the bench) see how long an order waits to be matched, from the ets.market.match_latency histogram.</summary>
    [Fact]
    public async Task EachPlacedOrder_IsTimedFromPlacementUntilMatched_InItsBook()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 10);
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);
        var timed = new System.Collections.Concurrent.ConcurrentBag<double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == EtsTelemetry.Name && instrument.Name == "ets.market.match_latency") l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<double>((_, ms, tags, _) =>
        {
            var (book, prefix) = ((string?)null, (string?)null);
            foreach (var tag in tags)
            {
                if (tag.Key == EtsTelemetry.BookTag) book = tag.Value as string;
                if (tag.Key == EtsTelemetry.StoragePrefixTag) prefix = tag.Value as string;
            }
            if (book == $"BEA-{vintage}" && prefix == app.Prefix) timed.Add(ms);
        });
        listener.Start();
        var started = System.Diagnostics.Stopwatch.StartNew();

        var sell = await _market.PlacedAsync(seller, vintage, "sell", 50.00m, 10);
        await _market.OrderWhenAsync(seller, sell, "open");
        // Resting in the book counts as matched: the sell is timed before any buy comes.
        await Eventually.HoldsAsync(() => Task.FromResult(timed.Count == 1), "the resting sell order was timed");
        await _market.OrderWhenAsync(buyer, await _market.PlacedAsync(buyer, vintage, "buy", 50.00m, 4), "filled");

        await Eventually.HoldsAsync(() => Task.FromResult(timed.Count == 2), "the crossing buy order was timed");
        Assert.All(timed, ms => Assert.InRange(ms, 0, started.Elapsed.TotalMilliseconds));
    }

    [Fact]
    public async Task MarketData_GivesTheDaysBar_AndAParticipantSeesOnlyItsOwnTrades()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 30);
        var (b1, b2) = (await _market.TraderAsync(vintage, yuan: 5_000m), await _market.TraderAsync(vintage, yuan: 5_000m));
        var s1 = await _market.PlacedAsync(seller, vintage, "sell", 52.00m, 10);
        await _market.OrderWhenAsync(seller, s1, "open");
        await _market.OrderWhenAsync(b1, await _market.PlacedAsync(b1, vintage, "buy", 52.00m, 10), "filled");
        var s2 = await _market.PlacedAsync(seller, vintage, "sell", 48.00m, 20);
        await _market.OrderWhenAsync(seller, s2, "open");
        await _market.OrderWhenAsync(b2, await _market.PlacedAsync(b2, vintage, "buy", 48.00m, 20), "filled");

        var bars = (await app.Client().GetFromJsonAsync<JsonElement>($"/api/market/BEA/daily?vintage={vintage}", Ct)).EnumerateArray().ToList();
        var bar = Assert.Single(bars);
        Assert.Equal((52.00m, 52.00m, 48.00m, 48.00m), (bar.GetProperty("open").GetDecimal(), bar.GetProperty("high").GetDecimal(), bar.GetProperty("low").GetDecimal(), bar.GetProperty("close").GetDecimal()));
        Assert.Equal((30L, 1_480.00m, 49.33m), (bar.GetProperty("volume").GetInt64(), bar.GetProperty("turnover").GetDecimal(), bar.GetProperty("vwap").GetDecimal()));
        var own = await _market.TradesAsync(vintage, app.Client("participant", b1));
        Assert.Equal([b1], own.Select(t => t.GetProperty("buyer").GetString()));
        var fees = await app.Client().GetFromJsonAsync<JsonElement>("/api/market/fees", Ct);
        Assert.Equal(0.15m, fees.GetProperty("buyerPercent").GetDecimal());
    }

    [Fact]
    public async Task ACancelAskedWhileTheOrderIsStillBeingPlaced_CancelsItAsItReachesTheBook_BeforeItCanTrade()
    {
        var vintage = await _market.NewVintageAsync();
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);
        var seller = await _market.TraderAsync(vintage, tonnes: 10);
        var sell = await _market.PlacedAsync(seller, vintage, "sell", 50.00m, 10);
        await _market.OrderWhenAsync(seller, sell, "open");
        // A buy that would take the resting sell, recorded by its placing request, which has not frozen it or put it in
        // the book yet when its participant cancels it (the order is listed, so the cancel is accepted).
        var now = DateTimeOffset.UtcNow;
        var book = $"BEA-{vintage}";
        var buy = new MarketOrder($"{book}-{Guid.NewGuid():N}"[..(book.Length + 17)], "cancelled-early", buyer, "BEA", vintage, Domain.Trading.Side.Buy, 50.00m, 10, 0,
            OrderStatus.Open, null, app.Service<MarketSettings>().BuyHoldFen(50.00m, 10), now, now);
        var etag = await app.Service<OrderStore>().AddAsync(buy, Ct);
        Assert.NotNull(etag);
        Assert.Equal(HttpStatusCode.Accepted, (await app.Client("participant", buyer).DeleteAsync($"/api/market/orders/{buy.OrderId}", Ct)).StatusCode);

        var (placed, refusal) = await app.Service<OrderPlacement>().ContinueAsync(buy, etag.Value, Ct, recordedNow: true); // the placing request goes on
        Assert.Null(refusal);
        Assert.NotNull(placed);

        var cancelled = await _market.OrderWhenAsync(buyer, buy.OrderId, "cancelled");
        Assert.Equal(OrderEndpoints.CancelledByParticipant, cancelled.GetProperty("reason").GetString());
        Assert.Equal(0, cancelled.GetProperty("filled").GetInt64());
        await Eventually.HoldsAsync(async () => await _market.FundsAsync(buyer) == (1_000m, 0m), "the buyer's frozen funds are all given back");
        Assert.Empty(await _market.TradesAsync(vintage));
        Assert.Equal("open", (await _market.OrderAsync(seller, sell)).GetProperty("status").GetString());
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public void ASellCancelledBeforeItsPlacement_GivesBackAllItsTonnes_TradesNothing_AndReplaysTheSame()
    {
        var book = new BookKey("BEA", 2030);
        var placedAt = new DateTimeOffset(2026, 11, 26, 2, 0, 0, TimeSpan.Zero);
        BookCommand[] commands =
        [
            new(1, BookCommandKind.Place, "buy-1", "BUYER", placedAt, "b1", Domain.Trading.Side.Buy, 50.00m, 10, 50_085),
            new(2, BookCommandKind.Cancel, "sell-1", "SELLER", placedAt.AddSeconds(2), Reason: OrderEndpoints.CancelledByParticipant),
            new(3, BookCommandKind.Place, "sell-1", "SELLER", placedAt.AddSeconds(1), "s1", Domain.Trading.Side.Sell, 49.00m, 10, Lot: null),
            new(4, BookCommandKind.Cancel, "sell-1", "SELLER", placedAt.AddSeconds(3), Reason: OrderEndpoints.CancelledByParticipant), // again: nothing more
        ];
        MatchEffects Run()
        {
            var state = new BookState(book, app.Service<MarketSettings>());
            var effects = new MatchEffects();
            foreach (var command in commands) state.Apply(command, effects);
            Assert.Equal(10, state.Depth(null).Bids.Sum(l => l.Quantity)); // the buy rests: the sell never entered the book
            Assert.Empty(state.Depth(null).Asks);
            return effects;
        }

        var effects = Run();
        Assert.Empty(effects.Trades);
        var sell = effects.Orders["sell-1"];
        Assert.Equal((OrderStatus.Cancelled, 0L, placedAt.AddSeconds(2)), (sell.Status, sell.Filled, sell.UpdatedAt));
        var release = Assert.Single(effects.Releases);
        Assert.Equal(SettlementMessage.ReleaseHoldings(book, "sell-1", "SELLER", 10, null), release);
        var replayed = Run(); // after a crash, or on another instance: the same effects
        Assert.Equal(effects.Orders.Values.OrderBy(o => o.OrderId), replayed.Orders.Values.OrderBy(o => o.OrderId));
        Assert.Equal(effects.Releases, replayed.Releases);
    }

    [Fact]
    public async Task AnOrderWhosePlacingStoppedPartWay_IsFinishedByTheSweep_OrRejectedIfItCannotBeCovered()
    {
        var vintage = await _market.NewVintageAsync();
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);
        var seller = await _market.TraderAsync(vintage, tonnes: 5);
        // As a request that died right after recording its order would leave them: pending, nothing frozen, in no book.
        var placedAt = DateTimeOffset.UtcNow.AddMinutes(-2);
        var book = $"BEA-{vintage}";
        var buy = new MarketOrder($"{book}-{Guid.NewGuid():N}"[..(book.Length + 17)], "crashed-buy", buyer, "BEA", vintage, Domain.Trading.Side.Buy, 50.00m, 10, 0,
            OrderStatus.Pending, null, 50_085, placedAt, placedAt); // 500.00 + 0.75 fee + a fen a tonne
        var sell = new MarketOrder($"{book}-{Guid.NewGuid():N}"[..(book.Length + 17)], "crashed-sell", seller, "BEA", vintage, Domain.Trading.Side.Sell, 55.00m, 6, 0,
            OrderStatus.Pending, null, 0, placedAt, placedAt);
        Assert.True(await app.Service<OrderStore>().TryAddAsync(buy, Ct));
        Assert.True(await app.Service<OrderStore>().TryAddAsync(sell, Ct));

        await app.Service<OrderPlacement>().ResumeAsync(Ct);

        await _market.OrderWhenAsync(buyer, buy.OrderId, "open");
        Assert.Equal((1_000m - 500.85m, 500.85m), await _market.FundsAsync(buyer));
        var rejected = await _market.OrderAsync(seller, sell.OrderId);
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Contains("Insufficient holdings", rejected.GetProperty("reason").GetString());
        Assert.Equal((5L, 0L), await _market.HoldingAsync(seller, vintage));
        Assert.Equal(0, await app.Service<OrderPlacement>().ResumeAsync(Ct)); // nothing left to finish
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task BcerTrades_ByTheLotTheSellerNames_AndTheBuyerReceivesThatLot()
    {
        var vintage = await _market.NewVintageAsync();
        (await _market.Exchange.PutAsJsonAsync("/api/market/BCER/reference-price", new { vintage, price = 30.00m }, Ct)).EnsureSuccessStatusCode();
        var seller = await _market.TraderAsync(vintage);
        var buyer = await _market.TraderAsync(vintage, yuan: 5_000m);
        const string Lot = "BJ-FOREST-2024-000123";
        Assert.Equal("completed", (await _market.Ledger.SettleAsync(_market.Regulator, "deposit", null, seller, 100, vintage: vintage, product: "BCER", lot: Lot)).GetProperty("status").GetString());

        Task<HttpResponseMessage> PlaceBcer(string who, string side, long quantity, string? lot) => app.Client("participant", who).PostAsJsonAsync("/api/market/orders",
            new { clientOrderId = Guid.NewGuid().ToString("N"), product = "BCER", vintage, side, price = 30.00m, quantity, lot }, Ct);
        await (await PlaceBcer(seller, "sell", 60, null)).AssertProblemAsync(HttpStatusCode.BadRequest, "lot is required");
        await (await PlaceBcer(buyer, "buy", 60, Lot)).AssertProblemAsync(HttpStatusCode.BadRequest, "leave lot out");
        await (await PlaceBcer(seller, "sell", 60, "BJ-OTHER-1")).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient holdings");

        var sell = await PlaceBcer(seller, "sell", 60, Lot);
        Assert.Equal(HttpStatusCode.Created, sell.StatusCode);
        var sellId = (await sell.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString()!;
        await _market.OrderWhenAsync(seller, sellId, "open");
        var buy = await PlaceBcer(buyer, "buy", 60, null);
        Assert.Equal(HttpStatusCode.Created, buy.StatusCode);
        await _market.OrderWhenAsync(buyer, (await buy.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString()!, "filled");

        await Eventually.HoldsAsync(async () => (await _market.Exchange.GetFromJsonAsync<JsonElement[]>($"/api/market/trades?product=BCER&vintage={vintage}", Ct))!
            .SingleOrDefault().ValueKind == JsonValueKind.Object, "the BCER trade is recorded");
        var trade = (await _market.Exchange.GetFromJsonAsync<JsonElement[]>($"/api/market/trades?product=BCER&vintage={vintage}", Ct))!.Single();
        Assert.Equal((Lot, 60L), (trade.GetProperty("lot").GetString(), trade.GetProperty("quantity").GetInt64()));
        await Eventually.HoldsAsync(async () =>
        {
            var lots = (await _market.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{buyer}", Ct)).GetProperty("lots").EnumerateArray().ToList();
            return lots.Count == 1 && lots[0].GetProperty("lot").GetString() == Lot && lots[0].GetProperty("quantity").GetInt64() == 60;
        }, "the buyer holds 60 t of the seller's lot");
        var sellerLots = (await _market.Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{seller}", Ct)).GetProperty("lots").EnumerateArray().ToList();
        Assert.Equal(40L, Assert.Single(sellerLots).GetProperty("quantity").GetInt64());
        await _market.Ledger.AssertNoDriftAsync();
    }
}
