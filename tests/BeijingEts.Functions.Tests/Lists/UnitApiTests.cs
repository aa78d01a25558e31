namespace BeijingEts.Functions.Tests.Lists;

public sealed class ListsFixture : EtsAppFixture;

public sealed class UnitApiTests(ListsFixture app) : IClassFixture<ListsFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Register_CreatesTheUnitThenUpdatesItAndAuditsBoth()
    {
        var uscc = TestUnits.NewUscc();

        var created = await _regulator.PutAsJsonAsync($"/api/units/{uscc}", new { name = "北京水泥厂", district = "房山区", industry = "cement", nationalEts = false }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var updated = await _regulator.PutAsJsonAsync($"/api/units/{uscc}", new { name = "北京金隅水泥厂", district = "房山区", industry = "cement", nationalEts = false }, Ct);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);

        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("北京金隅水泥厂", unit.GetProperty("name").GetString());
        Assert.Equal("房山区", unit.GetProperty("district").GetString());
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}", Ct);
        var entries = trail.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["unit.updated", "unit.registered"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal("北京水泥厂", entries[0].GetProperty("before").GetProperty("name").GetString());
    }

    [Fact]
    public async Task WrongCheckCharacter_Gives400ThatSaysSoAndRegistersNothing()
    {
        var uscc = TestUnits.NewUscc();
        var wrong = uscc[..17] + (uscc[17] == '0' ? '1' : '0');

        var response = await _regulator.PutAsJsonAsync($"/api/units/{wrong}", new { name = "x", district = "朝阳区", industry = "power" }, Ct);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("check character", problem.Detail);
        Assert.Equal(HttpStatusCode.BadRequest, (await _regulator.GetAsync($"/api/units/{wrong}", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("朝阳", "power", "district '朝阳'")]
    [InlineData("Chaoyang", "power", "朝阳区")]
    [InlineData("朝阳区", "steel", "industry 'steel' is unknown; the industries are power, heat, cement, petrochemical, other-industry, services, transport, aviation, construction, agriculture")]
    public async Task UnknownDistrictOrIndustry_Gives400ListingTheKnownOnes(string district, string industry, string expected)
    {
        var uscc = TestUnits.NewUscc();

        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}", new { name = "x", district, industry }, Ct);

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _regulator.GetAsync($"/api/units/{uscc}", Ct)).StatusCode);
    }

    [Fact]
    public async Task EconomicDevelopmentArea_IsADistrictOfItsOwn()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, district: "北京经济技术开发区");

        var unit = await app.Client("district", "北京经济技术开发区").GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);

        Assert.Equal("北京经济技术开发区", unit.GetProperty("district").GetString());
    }

    [Fact]
    public async Task ReadingAUnit_IsForTheRegulatorItsDistrictAndItself()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, district: "海淀区");
        var other = await TestUnits.RegisterAsync(_regulator, district: "海淀区");

        Assert.Equal(HttpStatusCode.OK, (await _regulator.GetAsync($"/api/units/{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "海淀区").GetAsync($"/api/units/{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("unit", uscc).GetAsync($"/api/units/{uscc}", Ct)).StatusCode);
        await (await app.Client("district", "朝阳区").GetAsync($"/api/units/{uscc}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await app.Client("exchange").GetAsync($"/api/units/{uscc}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await app.Client("verifier", TestUnits.NewUscc()).GetAsync($"/api/units/{uscc}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        // Another unit learns nothing: an existing unit and a made-up one answer alike.
        var existing = await (await app.Client("unit", other).GetAsync($"/api/units/{uscc}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        var madeUp = await (await app.Client("unit", other).GetAsync($"/api/units/{TestUnits.NewUscc()}", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(existing.Detail!.Split(' ').Length, madeUp.Detail!.Split(' ').Length);
    }

    [Fact]
    public async Task OnlyTheRegulatorRegistersUnits()
    {
        var uscc = TestUnits.NewUscc();

        var response = await app.Client("district", "朝阳区").PutAsJsonAsync($"/api/units/{uscc}", new { name = "x", district = "朝阳区", industry = "power" }, Ct);

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
