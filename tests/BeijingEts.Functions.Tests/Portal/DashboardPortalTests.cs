using BeijingEts.Functions.Market;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Market;
using BeijingEts.Functions.Tests.Reporting;
using static Microsoft.Playwright.Assertions;

namespace BeijingEts.Functions.Tests.Portal;

/// <summary>On a fake clock, so trading days end and the market watch raises its alerts when the test says.</summary>
public sealed class DashboardPortalFixture : MarketClockFixture;

/// <summary>The regulator's dashboard in headless Chromium: each chart holds the data the API gives (read from ECharts, not pixels).</summary>
public sealed class DashboardPortalTests(DashboardPortalFixture app, Browser browser) : IClassFixture<DashboardPortalFixture>, IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static List<long?> Series(JsonElement option, int index) =>
        option.GetProperty("series")[index].GetProperty("data").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Number ? v.GetInt64() : (long?)null).ToList();

    private static List<string> Categories(JsonElement option, int axis = 0) =>
        option.GetProperty("xAxis")[axis].GetProperty("data").EnumerateArray().Select(v => v.GetString()!).ToList();

    [Fact]
    public async Task TheRegulatorsDashboard_ChartsComplianceByIndustryAndDistrict_TheMarketWithItsAlerts_AndTheReserve()
    {
        // The compliance year the portal opens on: the last full year in Beijing, by the app's clock as by the browser's.
        var year = BeijingTime.Today(app.Clock).Year - 1;
        var reporting = new ReportingClient(app);
        await reporting.ListedUnitAsync(year, industry: "cement", district: "朝阳区");
        await reporting.ListedUnitAsync(year, industry: "power", district: "海淀区");
        await reporting.ListedUnitAsync(year, industry: "power", district: "朝阳区");

        var market = new MarketClient(app);
        var vintage = await market.NewVintageWithReserveAsync(reserve: 2_000, reference: 50.00m);
        var seller = await market.TraderAsync(vintage, tonnes: 100);
        var buyer = await market.TraderAsync(vintage, yuan: 100_000m);
        await TradeAsync(market, seller, buyer, vintage, 50.00m, 10);
        var firstDay = BeijingTime.Today(app.Clock).ToString("yyyy-MM-dd");
        app.Clock.Advance(TimeSpan.FromDays(1));
        await TradeAsync(market, seller, buyer, vintage, 58.00m, 20); // +16% on the close: an alert once the day is over (Art. 20)
        var secondDay = BeijingTime.Today(app.Clock).ToString("yyyy-MM-dd");
        app.Clock.Advance(TimeSpan.FromDays(1));
        await app.Service<PriceMonitor>().RunAsync(Ct);

        var page = await browser.NewPageAsync(app.BaseAddress);
        await page.SignInAsync("regulator");
        await page.OpenAsync("dashboard");

        var byIndustry = await page.ChartOptionAsync("compliance-industry");
        Assert.Equal(["水泥", "电力"], Categories(byIndustry));
        Assert.Equal("排放量未核定", byIndustry.GetProperty("series")[3].GetProperty("name").GetString());
        Assert.Equal([1L, 2L], Series(byIndustry, 3)); // nothing confirmed yet: every unit unconfirmed
        Assert.Equal([0L, 0L], Series(byIndustry, 0));
        var byDistrict = await page.ChartOptionAsync("compliance-district");
        Assert.Equal(["朝阳区", "海淀区"], Categories(byDistrict));
        Assert.Equal([2L, 1L], Series(byDistrict, 3));
        var history = await page.ChartOptionAsync("emissions-allocation");
        Assert.Equal(Enumerable.Range(year - 4, 5).Select(y => y.ToString(System.Globalization.CultureInfo.InvariantCulture)), Categories(history));
        Assert.Equal(0L, Series(history, 0)[4]); // the year's list is published: its confirmed emissions so far
        await Expect(page.Locator("[data-table^='compliance-'] tbody tr")).ToHaveCountAsync(4);
        await page.ScreenshotAsync("regulator");

        // The table as the files a spreadsheet opens: the XLSX the page writes itself, read back by MiniExcel; and the CSV.
        var xlsx = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-table^='compliance-'] [data-export='xlsx']").ClickAsync());
        Assert.Equal($"compliance-{year}.xlsx", xlsx.SuggestedFilename);
        var rows = MiniExcelLibs.MiniExcel.Query(await xlsx.PathAsync(), useHeaderRow: true, excelType: MiniExcelLibs.ExcelType.XLSX).Cast<IDictionary<string, object>>().ToList();
        Assert.Equal(["行业", "行业", "区", "区"], rows.Select(r => (string)r["维度"]));
        Assert.Equal(["水泥", "电力", "朝阳区", "海淀区"], rows.Select(r => (string)r["分组"]));
        Assert.Equal([1d, 2d, 2d, 1d], rows.Select(r => Convert.ToDouble(r["排放量未核定"], System.Globalization.CultureInfo.InvariantCulture)));
        var csv = await page.RunAndWaitForDownloadAsync(() => page.Locator("[data-table^='compliance-'] [data-export='csv']").ClickAsync());
        var lines = (await File.ReadAllTextAsync(await csv.PathAsync(), Ct)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.Equal("行业,水泥,1,0,0,0,1,0,0", lines[1]);

        // The year of the vintage: its plan's reserve.
        await page.Locator("#year").FillAsync(vintage.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator("#year").DispatchEventAsync("change");
        await Expect(page.Locator("[data-section='cycle'] h2")).ToContainTextAsync(vintage.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var reserve = await page.ChartOptionAsync("reserve");
        var reserveView = await market.Regulator.GetFromJsonAsync<JsonElement>($"/api/allocation/{vintage}/reserve", Ct);
        Assert.Equal(reserveView.GetProperty("ceilingT").GetInt64(), Series(reserve, 0)[0]);
        Assert.Equal(100_000L, Series(reserve, 0)[0]);

        await page.OpenAsync("market");
        var chart = await page.ChartOptionAsync("market");
        Assert.Equal([firstDay, secondDay], Categories(chart));
        var candles = chart.GetProperty("series")[0];
        Assert.Equal("candlestick", candles.GetProperty("type").GetString());
        Assert.Equal([[50m, 50m, 50m, 50m], [58m, 58m, 58m, 58m]], candles.GetProperty("data").EnumerateArray().Select(c => c.EnumerateArray().Select(v => v.GetDecimal()).ToArray()).ToArray());
        Assert.Equal([10L, 20L], Series(chart, 1));
        var alert = Assert.Single(candles.GetProperty("markPoint").GetProperty("data").EnumerateArray());
        Assert.Equal(("close-move", secondDay), (alert.GetProperty("name").GetString(), alert.GetProperty("coord")[0].GetString()));
        await Expect(page.Locator("[data-table='price-alerts-BEA'] tbody tr")).ToHaveCountAsync(1);
        await page.ScreenshotAsync("regulator-market");

        // The four-eyes queue: a plan a regulator proposed waits for a second one.
        var proposed = await market.Regulator.PutAsJsonAsync($"/api/allocation/{vintage + 1}/plan", new
        {
            cap = 1_000_000,
            reserveRatio = 0.05m,
            preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } } },
        }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, proposed.StatusCode);
        var proposalId = (await proposed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("proposalId").GetString()!;
        await page.OpenAsync("queues");
        await Expect(page.Locator("[data-table='pending-approvals'] tbody tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("[data-table='pending-approvals'] tbody tr")).ToContainTextAsync(proposalId);
        await Expect(page.Locator("[data-table='open-cases'] td.empty")).ToBeVisibleAsync();
        await page.ScreenshotAsync("regulator-queues");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task TheEmissionsAndAllocationChart_PlotsTheAllocationIssuedEachYear_AsTheDashboardApiAndTheLedgerHaveIt()
    {
        // Two earlier years of the chart's five: one pre-allocated only, one also verified (top-ups on confirmed emissions).
        var year = BeijingTime.Today(app.Clock).Year - 1;
        var ledger = new LedgerClient(app);
        var reporting = new ReportingClient(app);
        var (preOnly, verified) = (year - 3, year - 2);
        var units = new Dictionary<int, List<string>>();
        foreach (var y in new[] { preOnly, verified })
        {
            units[y] = [await KeyUnitAsync(ledger, y, 10_000), await KeyUnitAsync(ledger, y, 24_000)];
            Assert.True((await ledger.Regulator.PostAsync($"/api/lists/{y}/publish", null, Ct)).IsSuccessStatusCode);
            await app.ApproveAsync(await ledger.Regulator.PutAsJsonAsync($"/api/allocation/{y}/plan", new
            {
                cap = 1_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
                methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { y - 2, y - 1 }, controlFactor = 0.98m } },
            }, Ct));
            var pre = await ledger.Regulator.PostAsync($"/api/allocation/{y}/pre-allocation", null, Ct);
            Assert.Equal(HttpStatusCode.OK, pre.StatusCode);
        }
        await reporting.SetFactorsAsync(verified);
        foreach (var uscc in units[verified])
        {
            await reporting.SubmitAsync(uscc, verified, ReportingClient.Report());
            await reporting.ConfirmAsync(uscc, verified, 9_000);
        }
        var settled = await ledger.Regulator.PostAsync($"/api/allocation/{verified}/verified-allocation", null, Ct);
        Assert.Equal(HttpStatusCode.OK, settled.StatusCode);

        var page = await browser.NewPageAsync(app.BaseAddress);
        await page.SignInAsync("regulator");
        await page.OpenAsync("dashboard");
        await page.Locator("#year").FillAsync(year.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.Locator("#year").DispatchEventAsync("change");
        await Expect(page.Locator("[data-section='cycle'] h2")).ToContainTextAsync(year.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var chart = await page.ChartOptionAsync("emissions-allocation");
        Assert.Equal(Enumerable.Range(year - 4, 5).Select(y => y.ToString(System.Globalization.CultureInfo.InvariantCulture)), Categories(chart));
        Assert.Equal("实际发放配额", chart.GetProperty("series")[1].GetProperty("name").GetString());

        foreach (var y in new[] { preOnly, verified })
        {
            var dashboard = await ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/dashboard/{y}/compliance", Ct);
            var allocation = dashboard.GetProperty("allocation");
            var index = y - (year - 4);
            Assert.Equal(allocation.GetProperty("allocatedT").GetInt64(), Series(chart, 1)[index]);
            Assert.Equal(dashboard.GetProperty("total").GetProperty("confirmedEmissionsT").GetInt64(), Series(chart, 0)[index]);
            var plan = await ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/allocation/{y}/plan", Ct);
            Assert.Equal(plan.GetProperty("cap").GetInt64(), Series(chart, 2)[index]);
            // What the units hold of the vintage is what the dashboard says was allocated (nothing else moved it), once the
            // ledger has credited each unit's own account.
            long held = 0;
            for (var tries = 0; tries < 60 && held != allocation.GetProperty("allocatedT").GetInt64(); tries++)
            {
                if (tries > 0) await Task.Delay(500, Ct);
                held = 0;
                foreach (var uscc in units[y]) held += await ledger.HoldingAsync(uscc, vintage: y);
            }
            Assert.Equal(held, allocation.GetProperty("allocatedT").GetInt64());
            Assert.Equal(2, allocation.GetProperty("units").GetInt32());
            Assert.True(held > 0);
        }
        var topped = (await ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/dashboard/{verified}/compliance", Ct)).GetProperty("allocation");
        Assert.True(topped.GetProperty("toppedUpT").GetInt64() + topped.GetProperty("clawedBackT").GetInt64() > 0, "the verified allocation moved tonnes");
        Assert.Equal(0L, (await ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/dashboard/{preOnly}/compliance", Ct)).GetProperty("allocation").GetProperty("toppedUpT").GetInt64());
        Assert.Equal(18_000L, Series(chart, 0)[verified - (year - 4)]);
        page.AssertNoPageProblems();
    }

    /// <summary>A cement unit with the same emissions in the two base years before the list year and key-unit figures in it.</summary>
    private async Task<string> KeyUnitAsync(LedgerClient ledger, int listYear, long emissions)
    {
        var uscc = await TestUnits.RegisterAsync(ledger.Regulator, industry: "cement");
        foreach (var y in new[] { listYear - 2, listYear - 1, listYear })
        {
            var put = await ledger.Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{y}", new { energyConsumptionTce = 5000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct);
            Assert.True(put.IsSuccessStatusCode);
        }
        return uscc;
    }

    /// <summary>One trade: the seller's order rests first, then the buyer's fills it.</summary>
    private static async Task TradeAsync(MarketClient market, string seller, string buyer, int vintage, decimal price, long tonnes)
    {
        var sell = await market.PlacedAsync(seller, vintage, "sell", price, tonnes);
        await market.OrderWhenAsync(seller, sell, "open");
        var buy = await market.PlacedAsync(buyer, vintage, "buy", price, tonnes);
        await market.OrderWhenAsync(buyer, buy, "filled");
    }
}
