using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>The app on a fake clock, so an auction's bidding closes when the test says.</summary>
public sealed class AuctionFixture : MarketClockFixture;

/// <summary>Paid auctions (有偿竞价, Art. 12, 19-20): sealed bids, one clearing price, allowances from the reserve.</summary>
public sealed class AuctionTests(AuctionFixture app) : IClassFixture<AuctionFixture>
{
    private readonly MarketClient _market = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> AnnounceAsync(int vintage, long quantity, decimal reservePrice = 40.00m, decimal maxShare = 0.5m, TimeSpan? opensIn = null, TimeSpan? closesIn = null) =>
        _market.Regulator.PostAsJsonAsync("/api/auctions", new
        {
            product = "BEA", vintage, quantity, reservePrice,
            opensAt = app.Clock.GetUtcNow() + (opensIn ?? TimeSpan.Zero),
            closesAt = app.Clock.GetUtcNow() + (closesIn ?? TimeSpan.FromHours(1)),
            maxSharePerBidder = maxShare,
        }, Ct);

    private async Task<string> AnnouncedAsync(int vintage, long quantity, decimal maxShare = 0.5m, TimeSpan? opensIn = null)
    {
        var response = await AnnounceAsync(vintage, quantity, maxShare: maxShare, opensIn: opensIn);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    private Task<HttpResponseMessage> BidAsync(string bidder, string auction, decimal price, object quantity) =>
        app.Client("participant", bidder).PostAsJsonAsync($"/api/auctions/{auction}/bids", new { price, quantity }, Ct);

    private async Task BidsAsync(string bidder, string auction, decimal price, long quantity)
    {
        var response = await BidAsync(bidder, auction, price, quantity);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
    }

    private async Task<JsonElement> SettledAsync(string auction, TimeSpan? advance = null)
    {
        app.Clock.Advance(advance ?? TimeSpan.FromMinutes(61));
        JsonElement view = default;
        await Eventually.HoldsAsync(async () =>
        {
            await app.Service<AuctionHouse>().RunAsync(Ct);
            view = await _market.Regulator.GetFromJsonAsync<JsonElement>($"/api/auctions/{auction}", Ct);
            return view.GetProperty("status").GetString() == "settled";
        }, $"auction {auction} is settled");
        return view;
    }

    [Fact]
    public async Task AClosedAuction_ClearsAtOnePrice_ProRataAtTheMargin_AndSettlesFromTheReserve()
    {
        var vintage = await _market.NewVintageWithReserveAsync(reserve: 5_000);
        var (a, b, c, d) = (await _market.TraderAsync(vintage, yuan: 100_000m), await _market.TraderAsync(vintage, yuan: 100_000m),
            await _market.TraderAsync(vintage, yuan: 100_000m), await _market.TraderAsync(vintage, yuan: 100_000m));
        var auction = await AnnouncedAsync(vintage, 1_000);

        await BidsAsync(a, auction, 60.00m, 400);
        await BidsAsync(b, auction, 55.00m, 400);
        await BidsAsync(c, auction, 50.00m, 300);
        await BidsAsync(d, auction, 50.00m, 100);
        await BidsAsync(d, auction, 45.00m, 300);
        // A bid freezes its cost at its own price: 300 × 45 + 0.15% fee + a fen a tonne, on top of the first.
        Assert.Equal(100_000m - 5_008.50m - 13_523.25m, (await _market.FundsAsync(d)).Available);

        var reserveFunds = (await _market.FundsAsync("reserve")).Available; // other tests' auctions pay in too
        var view = await SettledAsync(auction);
        // 800 t are wanted above 50.00; 400 t at 50.00 share the 200 t left, 3:1.
        Assert.Equal((50.00m, 1_000L, 0L), (view.GetProperty("clearingPrice").GetDecimal(), view.GetProperty("sold").GetInt64(), view.GetProperty("unsold").GetInt64()));
        Assert.Equal((400L, 0L), await _market.HoldingAsync(a, vintage));
        Assert.Equal((400L, 0L), await _market.HoldingAsync(b, vintage));
        Assert.Equal((150L, 0L), await _market.HoldingAsync(c, vintage));
        Assert.Equal((50L, 0L), await _market.HoldingAsync(d, vintage));
        Assert.Equal((4_000L, 0L), await _market.HoldingAsync("reserve", vintage));
        // Everyone pays the clearing price plus the buyer's fee, and gets back what it froze above that.
        Assert.Equal((100_000m - 20_030.00m, 0m), await _market.FundsAsync(a));
        Assert.Equal((100_000m - 20_030.00m, 0m), await _market.FundsAsync(b));
        Assert.Equal((100_000m - 7_511.25m, 0m), await _market.FundsAsync(c));
        Assert.Equal((100_000m - 2_503.75m, 0m), await _market.FundsAsync(d));
        Assert.Equal(reserveFunds + 50_000.00m, (await _market.FundsAsync("reserve")).Available);
        var trades = await _market.TradesAsync(vintage);
        Assert.Equal(4, trades.Count);
        Assert.All(trades, t => Assert.Equal(("auction", "reserve", 50.00m, true), (t.GetProperty("method").GetString(), t.GetProperty("seller").GetString(), t.GetProperty("price").GetDecimal(), t.GetProperty("settled").GetBoolean())));
        // Each bidder learns its own award and nobody else's.
        var seenByC = await app.Client("participant", c).GetFromJsonAsync<JsonElement>($"/api/auctions/{auction}", Ct);
        Assert.Equal(150L, Assert.Single(seenByC.GetProperty("awards").EnumerateArray()).GetProperty("quantity").GetInt64());
        Assert.Equal("unsuccessful", (await app.Client("participant", d).GetFromJsonAsync<JsonElement[]>($"/api/auctions/{auction}/bids", Ct))!
            .Single(x => x.GetProperty("price").GetDecimal() == 45.00m).GetProperty("status").GetString());
        await _market.Ledger.AssertNoDriftAsync();

        // The proceeds are the municipal finance's (Art. 31): the finance authorities see them, the regulator records them remitted, once.
        var finance = app.Client("finance");
        AuctionProceeds(await finance.GetFromJsonAsync<JsonElement>("/api/market/proceeds", Ct), auction, out var raised);
        Assert.Equal((5_000_000L, JsonValueKind.Null), (raised.GetProperty("proceedsFen").GetInt64(), raised.GetProperty("remittance").ValueKind));
        var today = DateOnly.FromDateTime(app.Clock.GetUtcNow().AddHours(8).DateTime);
        Assert.Equal(HttpStatusCode.BadRequest, (await _market.Regulator.PostAsJsonAsync($"/api/auctions/{auction}/remittance", new { remittedOn = today.AddDays(1), reference = "T-1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.PostAsJsonAsync($"/api/auctions/{auction}/remittance", new { remittedOn = today, reference = "T-1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _market.Regulator.PostAsJsonAsync($"/api/auctions/{auction}/remittance", new { remittedOn = today, reference = "国库缴款书 2026-118" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _market.Regulator.PostAsJsonAsync($"/api/auctions/{auction}/remittance", new { remittedOn = today, reference = "again" }, Ct)).StatusCode);
        AuctionProceeds(await finance.GetFromJsonAsync<JsonElement>("/api/market/proceeds", Ct), auction, out raised);
        Assert.Equal((5_000_000L, "国库缴款书 2026-118"), (raised.GetProperty("remittance").GetProperty("amountFen").GetInt64(), raised.GetProperty("remittance").GetProperty("reference").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await finance.GetAsync("/api/market/funds/reserve", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await finance.GetAsync($"/api/market/funds/{a}", Ct)).StatusCode);
    }

    private static void AuctionProceeds(JsonElement view, string auction, out JsonElement raised) =>
        raised = view.GetProperty("auctions").EnumerateArray().Single(x => x.GetProperty("auctionId").GetString() == auction);

    [Fact]
    public async Task BadBids_AreRefusedWithWhatToFix_AndSealedBidsStaySealed()
    {
        var vintage = await _market.NewVintageWithReserveAsync(reserve: 5_000);
        var bidder = await _market.TraderAsync(vintage, yuan: 30_000m);
        var other = await _market.TraderAsync(vintage, yuan: 30_000m);
        var later = await AnnouncedAsync(vintage, 1_000, opensIn: TimeSpan.FromMinutes(30));
        await (await BidAsync(bidder, later, 50.00m, 10)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "opens");

        var auction = await AnnouncedAsync(vintage, 1_000, maxShare: 0.2m);
        await (await BidAsync(bidder, auction, 39.99m, 10)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "reserve price");
        await (await BidAsync(bidder, auction, 50.005m, 10)).AssertProblemAsync(HttpStatusCode.BadRequest, "tick");
        await (await BidAsync(bidder, auction, 50.00m, 0)).AssertProblemAsync(HttpStatusCode.BadRequest, "quantity");
        await (await BidAsync(bidder, auction, 50.00m, 2.5m)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await BidAsync(bidder, auction, 50.00m, 201)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at most 200 t");
        await BidsAsync(bidder, auction, 50.00m, 150);
        await (await BidAsync(bidder, auction, 51.00m, 51)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at most 50 t more");
        await (await BidAsync(other, auction, 200.00m, 200)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient funds");

        Assert.Single(await app.Client("participant", bidder).GetFromJsonAsync<JsonElement[]>($"/api/auctions/{auction}/bids", Ct) ?? []);
        Assert.Empty(await app.Client("participant", other).GetFromJsonAsync<JsonElement[]>($"/api/auctions/{auction}/bids", Ct) ?? []);
        Assert.Equal((30_000m, 0m), await _market.FundsAsync(other));
        await (await _market.Regulator.GetAsync($"/api/auctions/{auction}/bids", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden, "sealed");

        app.Clock.Advance(TimeSpan.FromMinutes(61));
        await (await BidAsync(other, auction, 50.00m, 10)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "closed");
        Assert.Single(await _market.Regulator.GetFromJsonAsync<JsonElement[]>($"/api/auctions/{auction}/bids", Ct) ?? []);
        // The one bid wants less than the supply: it is filled at its own price, and the rest stays in the reserve.
        var view = await SettledAsync(auction, advance: TimeSpan.Zero);
        Assert.Equal((50.00m, 150L, 850L), (view.GetProperty("clearingPrice").GetDecimal(), view.GetProperty("sold").GetInt64(), view.GetProperty("unsold").GetInt64()));
        Assert.Equal((150L, 0L), await _market.HoldingAsync(bidder, vintage));
    }

    [Fact]
    public async Task AnAuction_MustBeCoveredByTheYearsReserve_AndWellFormed()
    {
        var vintage = await _market.NewVintageWithReserveAsync(reserve: 1_000);
        var noPlan = _market.UnplannedVintage();
        await (await AnnounceAsync(noPlan, 100)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "allocation plan");
        await (await AnnounceAsync(vintage, 1_001)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at most 1000 t");
        await AnnouncedAsync(vintage, 600);
        // What an open auction offers is spoken for.
        await (await AnnounceAsync(vintage, 401)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at most 400 t");
        await (await AnnounceAsync(vintage, 100, maxShare: 0m)).AssertProblemAsync(HttpStatusCode.BadRequest, "maxSharePerBidder");
        await (await AnnounceAsync(vintage, 100, reservePrice: 0m)).AssertProblemAsync(HttpStatusCode.BadRequest, "reservePrice");
        await (await AnnounceAsync(vintage, 100, opensIn: TimeSpan.FromHours(2))).AssertProblemAsync(HttpStatusCode.BadRequest, "after opensAt");
        var participant = await _market.TraderAsync(vintage);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("participant", participant).PostAsJsonAsync("/api/auctions",
            new { product = "BEA", vintage, quantity = 10, reservePrice = 40m, opensAt = app.Clock.GetUtcNow(), closesAt = app.Clock.GetUtcNow().AddHours(1), maxSharePerBidder = 0.5m }, Ct)).StatusCode);
        Assert.Single(await _market.Regulator.GetFromJsonAsync<JsonElement[]>("/api/auctions", Ct) ?? [], a => a.GetProperty("vintage").GetInt32() == vintage);
    }

    [Fact]
    public async Task AnnouncementsAtOnce_CannotBothCountTheSameReserve()
    {
        var vintage = await _market.NewVintageWithReserveAsync(reserve: 1_000);
        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => AnnounceAsync(vintage, 400)));
        // 1,000 t cover two auctions of 400 t, not three.
        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.UnprocessableEntity));
    }

    [Fact]
    public async Task ABuyback_BuysFromTheBookIntoTheReserve_WithinTheReserveCeiling_PaidFromTheReservesFunds()
    {
        var vintage = await _market.NewVintageWithReserveAsync(reserve: 1_000);
        (await _market.Exchange.PostAsJsonAsync("/api/market/funds/reserve/deposits", new { transactionId = $"budget-{vintage}", amount = 100_000m }, Ct)).EnsureSuccessStatusCode();
        var reserveFunds = (await _market.FundsAsync("reserve")).Available;
        var seller = await _market.TraderAsync(vintage, tonnes: 500);
        var sell = await _market.PlacedAsync(seller, vintage, "sell", 48.00m, 500);
        await _market.OrderWhenAsync(seller, sell, "open");

        // The ceiling is 100,000 t (5% of a 2,000,000 t cap) and the reserve holds 1,000 t.
        await (await _market.Regulator.PostAsJsonAsync("/api/buybacks", new { vintage, quantity = 99_001, maxPrice = 50.00m }, Ct))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "at most 99000 t");
        await (await _market.Regulator.PostAsJsonAsync("/api/buybacks", new { vintage = _market.UnplannedVintage(), quantity = 10, maxPrice = 50.00m }, Ct))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "allocation plan");
        await (await _market.Regulator.PostAsJsonAsync("/api/buybacks", new { vintage, quantity = 99_000, maxPrice = 50.00m }, Ct))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient funds");
        Assert.Equal(HttpStatusCode.Forbidden, (await _market.Exchange.PostAsJsonAsync("/api/buybacks", new { vintage, quantity = 10, maxPrice = 50.00m }, Ct)).StatusCode);

        var placed = await _market.Regulator.PostAsJsonAsync("/api/buybacks", new { vintage, quantity = 300, maxPrice = 50.00m }, Ct);
        Assert.True(placed.StatusCode == HttpStatusCode.Created, await placed.Content.ReadAsStringAsync(Ct));
        var id = (await placed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString()!;
        await Eventually.HoldsAsync(async () => (await _market.Regulator.GetFromJsonAsync<JsonElement[]>("/api/buybacks", Ct))!
            .Single(b => b.GetProperty("orderId").GetString() == id).GetProperty("status").GetString() == "filled", "the buy-back filled");
        await _market.SettledAsync(vintage, trades: 1);

        Assert.Equal((1_300L, 0L), await _market.HoldingAsync("reserve", vintage));
        Assert.Equal((0L, 200L), await _market.HoldingAsync(seller, vintage)); // 200 t still offered
        // 300 × 48.00 = 14,400.00 at the resting price, 21.60 fee a side; what was frozen at 50.00 comes back.
        await Eventually.HoldsAsync(async () => await _market.FundsAsync("reserve") == (reserveFunds - 14_421.60m, 0m), "the reserve paid 14,421.60");
        Assert.Equal((14_378.40m, 0m), await _market.FundsAsync(seller));
        await _market.Ledger.AssertNoDriftAsync();
    }
}
