namespace BeijingEts.Functions.Tests.Lists;

public sealed class StatisticsApiTests(ListsFixture app) : IClassFixture<ListsFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Statistics_AreStoredExactlyAndAudited()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/2025", new { energyConsumptionTce = 1999.99m, directEmissionsT = 4000, indirectEmissionsT = 999 }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(1999.99m, body.GetProperty("energyConsumptionTce").GetDecimal());
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}/statistics/2025", Ct);
        Assert.Equal("statistics.set", trail.GetProperty("entries")[0].GetProperty("action").GetString());
    }

    [Theory]
    [InlineData("{\"energyConsumptionTce\": -1, \"directEmissionsT\": 0, \"indirectEmissionsT\": 0}", "cannot be negative")]
    [InlineData("{\"energyConsumptionTce\": 2500, \"directEmissionsT\": -5, \"indirectEmissionsT\": 0}", "directEmissionsT is -5")]
    [InlineData("{\"energyConsumptionTce\": \"NaN\", \"directEmissionsT\": 0, \"indirectEmissionsT\": 0}", "a number")]
    [InlineData("{\"energyConsumptionTce\": 2500, \"indirectEmissionsT\": 0}", "directEmissionsT")]
    [InlineData("{\"energyConsumptionTce\": 2500, \"directEmissionsT\": 12.5, \"indirectEmissionsT\": 0}", "a whole number")]
    [InlineData("{\"energyConsumptionTce\": 2500, \"directEmissionsT\": 1, \"indirectEmissionsT\": 0, \"outsideNationalBoundaryEmissionsT\": -3}", "cannot be negative")]
    public async Task BadFigures_Give400AndWriteNothing(string json, string expected)
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await _regulator.PutAsync($"/api/units/{uscc}/statistics/2025", new StringContent(json, System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}/statistics/2025", Ct);
        Assert.Empty(trail.GetProperty("entries").EnumerateArray());
    }

    [Fact]
    public async Task NationalEtsUnit_MustGiveItsEmissionsOutsideTheNationalBoundary()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator, industry: "power", nationalEts: true);

        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/2025", new { energyConsumptionTce = 90000, directEmissionsT = 400000, indirectEmissionsT = 1000 }, Ct);

        Assert.Contains("national ETS", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task FutureYear_IsRefused()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var next = DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).Year + 1;

        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{next}", new { energyConsumptionTce = 2500, directEmissionsT = 1, indirectEmissionsT = 0 }, Ct);

        Assert.Contains("has not begun", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task UnregisteredUnit_Gives404SayingHowToRegisterIt()
    {
        var uscc = TestUnits.NewUscc();

        var response = await _regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/2025", new { energyConsumptionTce = 2500, directEmissionsT = 1, indirectEmissionsT = 0 }, Ct);

        Assert.Contains($"PUT /api/units/{uscc}", (await response.AssertProblemAsync(HttpStatusCode.NotFound)).Detail);
    }

    [Fact]
    public async Task Rules_AreInForceFromTheirYearUntilALaterRule()
    {
        // Far-future years so the defaults other tests rely on stay in force for theirs.
        var set = await _regulator.PutAsJsonAsync("/api/lists/rules/2090", new { energyThresholdTce = 1500, keyEmissionsThresholdT = 3000, coveredIndustries = new[] { "power", "heat" } }, Ct);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);

        var before = await _regulator.GetFromJsonAsync<JsonElement>("/api/lists/rules/2089", Ct);
        var during = await _regulator.GetFromJsonAsync<JsonElement>("/api/lists/rules/2095", Ct);

        Assert.Equal(2000m, before.GetProperty("energyThresholdTce").GetDecimal());
        Assert.Equal(8, before.GetProperty("coveredIndustries").GetArrayLength());
        Assert.Equal(1500m, during.GetProperty("energyThresholdTce").GetDecimal());
        Assert.Equal(3000, during.GetProperty("keyEmissionsThresholdT").GetInt64());
        Assert.Equal(2090, during.GetProperty("fromYear").GetInt32());
    }

    [Fact]
    public async Task Rules_WithUnknownIndustry_Give400()
    {
        var response = await _regulator.PutAsJsonAsync("/api/lists/rules/2091", new { coveredIndustries = new[] { "power", "mining" } }, Ct);

        Assert.Contains("'mining'", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }
}
