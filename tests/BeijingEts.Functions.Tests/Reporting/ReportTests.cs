namespace BeijingEts.Functions.Tests.Reporting;

public sealed class ReportFixture : EtsAppFixture;

public sealed class ReportTests(ReportFixture app) : IClassFixture<ReportFixture>
{
    private const int Year = 2025;
    private readonly ReportingClient _reporting = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Report_ComputesEveryFigureFromTheYearsFactors_AndRoundsOnlyTheTotals()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);

        var report = await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());

        // gas 100 × 389.31 × 0.01532 × 0.99 × 44/12 = 2165.0152; coal 1000 × 20.908 × 0.02618 × 0.94 × 44/12 = 1886.6069;
        // process 12.4: direct 4064.0221 → 4064. Indirect (2000 − 500) × 0.5703 + 1000 × 0.11 = 965.45 → 965.
        Assert.Equal(4064, report.GetProperty("directEmissionsT").GetInt64());
        Assert.Equal(965, report.GetProperty("indirectEmissionsT").GetInt64());
        Assert.Equal(5029, report.GetProperty("totalEmissionsT").GetInt64());
        Assert.Equal(1, report.GetProperty("version").GetInt32());
        var gas = report.GetProperty("calculation").GetProperty("fuelLines")[0];
        Assert.Equal(389.31m, gas.GetProperty("ncvGJPerUnit").GetDecimal());
        Assert.Equal(2165.0152m, decimal.Round(gas.GetProperty("emissionsT").GetDecimal(), 4));
        Assert.Equal(1500m, report.GetProperty("calculation").GetProperty("indirect").GetProperty("netElectricityMWh").GetDecimal());
        Assert.True(DateOnly.Parse(report.GetProperty("retainUntil").GetString()!) >= DateOnly.FromDateTime(DateTime.UtcNow).AddYears(5), "kept at least 5 years (Art. 22)");
    }

    [Fact]
    public async Task EachSubmission_IsANewVersion_AndEarlierVersionsStayAsTheyWere()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var unit = app.Client("unit", uscc);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report(coal: 1000));

        var second = await unit.PutAsJsonAsync($"/api/units/{uscc}/reports/{Year}", ReportingClient.Report(coal: 0), Ct);

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.EndsWith($"/api/units/{uscc}/reports/{Year}/versions/2", second.Headers.Location!.ToString());
        var latest = await unit.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}", Ct);
        Assert.Equal(2, latest.GetProperty("version").GetInt32());
        Assert.Equal(2165 + 12 + 965, latest.GetProperty("totalEmissionsT").GetInt64());
        var first = await unit.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/versions/1", Ct);
        Assert.Equal(5029, first.GetProperty("totalEmissionsT").GetInt64());
        Assert.Equal(1000m, first.GetProperty("report").GetProperty("fuels")[1].GetProperty("quantity").GetDecimal());
    }

    [Fact]
    public async Task ConcurrentSubmissions_GetDistinctVersionNumbers()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);

        var versions = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
            (await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report(coal: i))).GetProperty("version").GetInt32()));

        Assert.Equal([1, 2, 3, 4, 5, 6], versions.Order());
    }

    [Fact]
    public async Task ASubmissionOnAnotherInstance_IsNumberedAfter_AndTheNextHereAfterIt()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
        var (other, address) = await app.StartAnotherInstanceAsync();
        try
        {
            var there = await app.Client(address, "unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/reports/{Year}", ReportingClient.Report(coal: 2), Ct);
            Assert.Equal(HttpStatusCode.Created, there.StatusCode);
            Assert.Equal(2, (await there.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("version").GetInt32());
        }
        finally
        {
            await other.StopAsync(CancellationToken.None);
            await other.DisposeAsync();
        }

        var here = await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report(coal: 3));

        Assert.Equal(3, here.GetProperty("version").GetInt32());
        var second = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/versions/2", Ct);
        Assert.Equal(2m, second.GetProperty("report").GetProperty("fuels")[1].GetProperty("quantity").GetDecimal());
    }

    [Fact]
    public async Task NewFactors_AreUsedByTheNextSubmission()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(5029, (await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report())).GetProperty("totalEmissionsT").GetInt64());

        var doubledGrid = await _reporting.Regulator.PutAsJsonAsync($"/api/reference/{Year}/emission-factors", new
        {
            fuels = new Dictionary<string, object>
            {
                ["natural-gas"] = new { unit = "10^4 Nm3", ncvGJPerUnit = 389.31m, carbonContentTCPerGJ = 0.01532m, oxidationRate = 0.99m },
                ["raw-coal"] = new { unit = "t", ncvGJPerUnit = 20.908m, carbonContentTCPerGJ = 0.02618m, oxidationRate = 0.94m },
            },
            electricityTCO2PerMWh = 1.1406m,
            heatTCO2PerGJ = 0.11m,
        }, Ct);
        try
        {
            Assert.Equal(HttpStatusCode.OK, doubledGrid.StatusCode);
            // Indirect (2000 − 500) × 1.1406 + 1000 × 0.11 = 1820.9 → 1821; direct 4064 as before.
            Assert.Equal(4064 + 1821, (await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report())).GetProperty("totalEmissionsT").GetInt64());
        }
        finally
        {
            await _reporting.SetFactorsAsync(Year);
        }
    }

    [Fact]
    public async Task AUnitOnARevisionJustPublished_ReportsAtOnce()
    {
        await _reporting.SetFactorsAsync(Year);
        var first = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(first, Year, ReportingClient.Report());

        var joined = await _reporting.ListedUnitAsync(Year);

        Assert.Equal(1, (await _reporting.SubmitAsync(joined, Year, ReportingClient.Report())).GetProperty("version").GetInt32());
    }

    /// <summary>
    /// Storage round trips, as the bench counts them: after the first report the unit, the year's list and factors and the
    /// report's head are known, so a key unit's next version costs the document, the version and head rows in one batch,
    /// and the audit row and its actor copy; a general reporting unit's also refreshes its district check (read, write,
    /// and that change's two audit rows).
    /// </summary>
    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 8)]
    public async Task ANextVersion_CostsAFixedNumberOfStorageRequests(bool key, int most)
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year, key: key);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());

        var (response, requests) = await StorageRequestCount.SendAsync(app.Client("unit", uscc),
            new HttpRequestMessage(HttpMethod.Put, $"/api/units/{uscc}/reports/{Year}") { Content = JsonContent.Create(ReportingClient.Report(coal: 7)) }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(requests <= most, $"A {(key ? "key" : "general reporting")} unit's next version took {requests} storage requests; at most {most} expected.");
        Assert.True(requests > 0, "No storage request was counted: is the traceparent header still followed?");
    }

    [Fact]
    public async Task BadLines_AreAllNamed_AndNothingIsWritten()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var report = new
        {
            fuels = new object[] { new { fuel = "natural-gas", quantity = -5m, unit = "10^4 Nm3" }, new { fuel = "whale-oil", quantity = 1m, unit = "t" }, new { fuel = "raw-coal", quantity = 1m, unit = "kg" } },
            activity = Array.Empty<object>(),
            purchasedElectricityMWh = 10m,
            nonFossilElectricityMWh = 5m,
            declaration = new { signedBy = "张伟", title = "法定代表人" },
        };

        var response = await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/reports/{Year}", report, Ct);

        var detail = (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail!;
        Assert.Contains("fuels[0].quantity is -5", detail);
        Assert.Contains("'whale-oil' is not a fuel", detail);
        Assert.Contains("fuels[2].unit 'kg' does not match raw-coal, which is reported in 't'", detail);
        Assert.Contains("nonFossilEvidence", detail);
        var get = await app.Client("unit", uscc).GetAsync($"/api/units/{uscc}/reports/{Year}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task NonNumericQuantity_IsRefusedNamingTheField()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var body = new StringContent("""{"fuels":[{"fuel":"raw-coal","quantity":"lots","unit":"t"}],"activity":[],"declaration":{"signedBy":"a","title":"b"}}""",
            System.Text.Encoding.UTF8, "application/json");

        var response = await app.Client("unit", uscc).PutAsync($"/api/units/{uscc}/reports/{Year}", body, Ct);

        Assert.Contains("quantity", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task AYearWithoutFactors_IsRefusedNamingTheYear()
    {
        var uscc = await _reporting.ListedUnitAsync(2024);

        var response = await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/reports/2024", ReportingClient.Report(), Ct);

        var detail = (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail!;
        Assert.Contains("No emission factors are set for 2024", detail);
    }

    [Fact]
    public async Task AYearNotYetEnded_AndAUnitNotOnTheList_AreRefused()
    {
        var year = ReportingClient.CurrentYear;
        await _reporting.SetFactorsAsync(year);
        var listed = await _reporting.ListedUnitAsync(year);
        var early = await app.Client("unit", listed).PutAsJsonAsync($"/api/units/{listed}/reports/{year}", ReportingClient.Report(), Ct);
        Assert.Contains($"from {year + 1}-01-01", (await early.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);

        await _reporting.SetFactorsAsync(Year);
        var unlisted = await Lists.TestUnits.RegisterAsync(_reporting.Regulator);
        var response = await app.Client("unit", unlisted).PutAsJsonAsync($"/api/units/{unlisted}/reports/{Year}", ReportingClient.Report(), Ct);
        Assert.Contains($"not on the published {Year} list", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task Reports_AreTheUnitsOwn_ReadByItsDistrictAndTheRegulator()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year, district: "海淀区");
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
        var other = await _reporting.ListedUnitAsync(Year);

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/units/{uscc}/reports/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "朝阳区").GetAsync($"/api/units/{uscc}/reports/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "海淀区").GetAsync($"/api/units/{uscc}/reports/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _reporting.Regulator.GetAsync($"/api/units/{uscc}/reports/{Year}", Ct)).StatusCode);
        var forged = await app.Client("unit", other).PutAsJsonAsync($"/api/units/{uscc}/reports/{Year}", ReportingClient.Report(), Ct);
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        var byRegulator = await _reporting.Regulator.PutAsJsonAsync($"/api/units/{uscc}/reports/{Year}", ReportingClient.Report(), Ct);
        await byRegulator.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Factors_AreValidated_AndReadableByUnits()
    {
        var bad = await _reporting.Regulator.PutAsJsonAsync("/api/reference/2023/emission-factors", new
        {
            fuels = new Dictionary<string, object> { ["raw-coal"] = new { unit = "t", ncvGJPerUnit = 0m, carbonContentTCPerGJ = 0.026m, oxidationRate = 1.2m } },
            electricityTCO2PerMWh = 0.57m,
            heatTCO2PerGJ = 0.11m,
        }, Ct);
        var detail = (await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail!;
        Assert.Contains("ncvGJPerUnit", detail);
        Assert.Contains("oxidationRate", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync("/api/reference/2023/emission-factors", Ct)).StatusCode);

        await _reporting.SetFactorsAsync(2023);
        var read = await app.Client("unit", Lists.TestUnits.NewUscc()).GetFromJsonAsync<JsonElement>("/api/reference/2023/emission-factors", Ct);
        Assert.Equal(0.5703m, read.GetProperty("electricityTCO2PerMWh").GetDecimal());
        Assert.Equal("10^4 Nm3", read.GetProperty("fuels").GetProperty("natural-gas").GetProperty("unit").GetString());
        var byUnit = await app.Client("unit", Lists.TestUnits.NewUscc()).PutAsJsonAsync("/api/reference/2023/emission-factors", ReportingClient.Factors, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, byUnit.StatusCode);
    }
}
