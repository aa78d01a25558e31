using MiniExcelLibs;

namespace BeijingEts.Functions.Tests.Lists;

public sealed class PublishFixture : EtsAppFixture;

public sealed class PublishListTests(PublishFixture app) : IClassFixture<PublishFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<string> UnitWithFiguresAsync(int year, string industry, decimal energy, long direct, long indirect = 0, bool nationalEts = false, long? outside = null, string district = "朝阳区")
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, district, industry, nationalEts);
        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}",
            new { energyConsumptionTce = energy, directEmissionsT = direct, indirectEmissionsT = indirect, outsideNationalBoundaryEmissionsT = outside }, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
        return uscc;
    }

    private async Task<JsonElement> PublishAsync(int year, HttpStatusCode expected)
    {
        var response = await _regulator.PostAsync($"/api/lists/{year}/publish", null, Ct);
        Assert.Equal(expected, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static Dictionary<string, string> Categories(JsonElement list) =>
        list.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("uscc").GetString()!, e => e.GetProperty("category").GetString()!);

    [Fact]
    public async Task PublishedList_ClassifiesEveryBoundaryAsArt6Says()
    {
        const int year = 2021;
        var under = await UnitWithFiguresAsync(year, "cement", 1999.99m, direct: 50_000);
        var atEnergy = await UnitWithFiguresAsync(year, "cement", 2000m, direct: 4_999);
        var atKey = await UnitWithFiguresAsync(year, "cement", 2000m, direct: 4_000, indirect: 1_000);
        var uncovered = await UnitWithFiguresAsync(year, "construction", 9000m, direct: 90_000);
        var nationalBelow = await UnitWithFiguresAsync(year, "power", 90_000m, direct: 900_000, nationalEts: true, outside: 4_999);
        var nationalAt = await UnitWithFiguresAsync(year, "power", 90_000m, direct: 900_000, nationalEts: true, outside: 5_000);
        await TestUnits.RegisterAsync(_regulator); // registered, but no statistics for the year

        var published = await PublishAsync(year, HttpStatusCode.Created);
        Assert.Equal(1, published.GetProperty("revision").GetInt32());

        var list = await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{year}", Ct); // no token: the list is public
        var categories = Categories(list);
        Assert.False(categories.ContainsKey(under));
        Assert.Equal("reporting", categories[atEnergy]);
        Assert.Equal("key", categories[atKey]);
        Assert.Equal("reporting", categories[uncovered]);
        Assert.Equal("reporting", categories[nationalBelow]);
        Assert.Equal("key", categories[nationalAt]);
        Assert.Equal(5, categories.Count);
        var entry = list.GetProperty("entries").EnumerateArray().First();
        // What is public of a unit, and no figure: "voluntary" marks a key unit by its opt-in (Art. 10 para 1).
        Assert.Equal(["uscc", "name", "district", "industry", "category", "voluntary"], entry.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task PublishingAgain_WithoutChanges_KeepsTheRevisionAndAfterChanges_AddsOneWhileTheOldStaysReadable()
    {
        const int year = 2022;
        var first = await UnitWithFiguresAsync(year, "heat", 3000m, direct: 6000);
        await PublishAsync(year, HttpStatusCode.Created);

        var again = await PublishAsync(year, HttpStatusCode.OK);
        Assert.True(again.GetProperty("unchanged").GetBoolean());
        Assert.Equal(1, again.GetProperty("revision").GetInt32());

        // Later changes: the unit is renamed and another unit appears.
        await _regulator.PutAsJsonAsync($"/api/units/{first}", new { name = "改名后的热力公司", district = "朝阳区", industry = "heat" }, Ct);
        var second = await UnitWithFiguresAsync(year, "services", 2500m, direct: 100);
        var republished = await PublishAsync(year, HttpStatusCode.Created);
        Assert.Equal(2, republished.GetProperty("revision").GetInt32());

        var revision1 = await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{year}?revision=1", Ct);
        var latest = await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{year}", Ct);
        Assert.Single(revision1.GetProperty("entries").EnumerateArray());
        Assert.StartsWith("测试单位", revision1.GetProperty("entries")[0].GetProperty("name").GetString());
        Assert.Equal(2, latest.GetProperty("revision").GetInt32());
        Assert.Equal([1, 2], latest.GetProperty("revisions").EnumerateArray().Select(r => r.GetInt32()));
        Assert.Contains(latest.GetProperty("entries").EnumerateArray(), e => e.GetProperty("name").GetString() == "改名后的热力公司");
        Assert.True(Categories(latest).ContainsKey(second));
    }

    [Fact]
    public async Task CsvAndXlsx_CarryTheSameEntriesAsJson()
    {
        const int year = 2023;
        await UnitWithFiguresAsync(year, "cement", 3000m, direct: 7000, district: "北京经济技术开发区");
        await UnitWithFiguresAsync(year, "transport", 2100m, direct: 10);
        await PublishAsync(year, HttpStatusCode.Created);
        var json = await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{year}", Ct);
        var expected = json.GetProperty("entries").EnumerateArray()
            .Select(e => string.Join("|", new[] { "uscc", "name", "district", "industry", "category" }.Select(p => e.GetProperty(p).GetString()))).ToList();

        var csvResponse = await app.Client().GetAsync($"/api/lists/{year}?format=csv", Ct);
        Assert.Equal("text/csv", csvResponse.Content.Headers.ContentType?.MediaType);
        var csv = (await csvResponse.Content.ReadAsStringAsync(Ct)).TrimStart('\uFEFF').Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("uscc,name,district,industry,category", csv[0]);
        Assert.Equal(expected, csv.Skip(1).Select(l => l.Replace(',', '|')));

        var xlsx = await app.Client().GetByteArrayAsync($"/api/lists/{year}?format=xlsx", Ct);
        using var stream = new MemoryStream(xlsx);
        var rows = stream.Query(useHeaderRow: true, excelType: ExcelType.XLSX).Cast<IDictionary<string, object>>()
            .Select(r => string.Join("|", new[] { "uscc", "name", "district", "industry", "category" }.Select(c => r[c]?.ToString()))).ToList();
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task UnpublishedYearOrRevision_Gives404()
    {
        await (await app.Client().GetAsync("/api/lists/2015", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await UnitWithFiguresAsync(2016, "cement", 3000m, direct: 7000);
        await PublishAsync(2016, HttpStatusCode.Created);
        var problem = await (await app.Client().GetAsync("/api/lists/2016?revision=9", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Contains("revisions are 1", problem.Detail);
        await (await app.Client().GetAsync("/api/lists/2016?format=pdf", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task OnlyTheRegulatorPublishes()
    {
        await (await app.Client("district", "朝阳区").PostAsync("/api/lists/2017/publish", null, Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await app.Client().PostAsync("/api/lists/2017/publish", null, Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    /// <summary>The ids of the unit's list notices, as it reads them in its inbox.</summary>
    private async Task<List<string>> ListNoticesAsync(string uscc) =>
        (await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>("/api/notifications", Ct)).GetProperty("notifications").EnumerateArray()
            .Select(n => n.GetProperty("id").GetString()!).Where(id => id.StartsWith("list-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task EachUnitIsTold_WhatARevisionChangesForIt_AndANewYearsFirstListIsComparedWithTheLastYears()
    {
        var stays = await UnitWithFiguresAsync(2018, "heat", 3000m, direct: 6000);
        var promoted = await UnitWithFiguresAsync(2018, "heat", 3000m, direct: 100);
        var dropsNextYear = await UnitWithFiguresAsync(2018, "heat", 3000m, direct: 6000);
        var dropsNow = await UnitWithFiguresAsync(2018, "heat", 3000m, direct: 100);
        await PublishAsync(2018, HttpStatusCode.Created);
        Assert.Equal(["list-2018-r1-reporting"], await ListNoticesAsync(dropsNow));

        // Revision 2: one unit becomes key, one falls under the thresholds; the unchanged one hears nothing more.
        await _regulator.PutAsJsonAsync($"/api/units/{promoted}/statistics/2018", new { energyConsumptionTce = 3000, directEmissionsT = 6000, indirectEmissionsT = 0 }, Ct);
        await _regulator.PutAsJsonAsync($"/api/units/{dropsNow}/statistics/2018", new { energyConsumptionTce = 1000, directEmissionsT = 100, indirectEmissionsT = 0 }, Ct);
        Assert.Equal(2, (await PublishAsync(2018, HttpStatusCode.Created)).GetProperty("revision").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await _regulator.PostAsync("/api/lists/2018/publish", null, Ct)).StatusCode); // again, unchanged: nothing told twice
        Assert.Equal(["list-2018-r1-key"], await ListNoticesAsync(stays));
        Assert.Equal(["list-2018-r1-reporting", "list-2018-r2-key"], await ListNoticesAsync(promoted));
        var changed = (await app.Client("unit", promoted).NoticeAsync("list-2018-r2-key"))!.Value;
        Assert.Equal("Included in the 2018 list as a key emitting unit", changed.GetProperty("subjectEn").GetString());
        Assert.Contains("重点碳排放单位", changed.GetProperty("subjectZh").GetString());
        Assert.Equal(["list-2018-r1-reporting", "list-2018-r2-removed"], await ListNoticesAsync(dropsNow));
        Assert.Equal("You are not on the 2018 list (Art. 7, 8).", (await app.Client("unit", dropsNow).NoticeAsync("list-2018-r2-removed"))!.Value.GetProperty("bodyEn").GetString());

        // 2019's first list against 2018's latest: each unit on it is told; the one on 2018's list and not on 2019's is told it is off.
        await _regulator.PutAsJsonAsync($"/api/units/{stays}/statistics/2019", new { energyConsumptionTce = 3000, directEmissionsT = 6000, indirectEmissionsT = 0 }, Ct);
        await _regulator.PutAsJsonAsync($"/api/units/{promoted}/statistics/2019", new { energyConsumptionTce = 3000, directEmissionsT = 6000, indirectEmissionsT = 0 }, Ct);
        var newcomer = await UnitWithFiguresAsync(2019, "heat", 3000m, direct: 100);
        await PublishAsync(2019, HttpStatusCode.Created);
        Assert.Equal(HttpStatusCode.OK, (await _regulator.PostAsync("/api/lists/2019/publish", null, Ct)).StatusCode);
        Assert.Equal(["list-2018-r1-key", "list-2019-r1-key"], await ListNoticesAsync(stays));
        Assert.Equal(["list-2019-r1-reporting"], await ListNoticesAsync(newcomer));
        Assert.Equal(["list-2018-r1-key", "list-2019-r1-removed"], await ListNoticesAsync(dropsNextYear));
        Assert.Contains("未列入2019年度名单", (await app.Client("unit", dropsNextYear).NoticeAsync("list-2019-r1-removed"))!.Value.GetProperty("bodyZh").GetString());
        Assert.Equal(["list-2018-r1-reporting", "list-2018-r2-removed"], await ListNoticesAsync(dropsNow)); // off 2018's latest list already: nothing new
    }
}
