namespace BeijingEts.Functions.Tests.Reporting;

public sealed class ReportSampleFixture : EtsAppFixture;

public sealed class ReportSampleTests(ReportSampleFixture app) : IClassFixture<ReportSampleFixture>
{
    private const int Year = 2025;
    // Its own year: the reproducible draw above counts every general unit that reported in its year.
    private const int DistrictYear = 2024;
    private readonly ReportingClient _reporting = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonElement> DrawAsync(object body, int year = Year)
    {
        var response = await _reporting.Regulator.PostAsJsonAsync($"/api/reports/{year}/sample", body, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private static List<string> Units(JsonElement sample) => sample.GetProperty("units").EnumerateArray().Select(u => u.GetString()!).ToList();

    [Fact]
    public async Task Sample_DrawsFromGeneralReportingUnitsThatReported_ReproduciblyBySeed()
    {
        await _reporting.SetFactorsAsync(Year);
        var general = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var uscc = await _reporting.ListedUnitAsync(Year, key: false);
            await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
            general.Add(uscc);
        }
        var key = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(key, Year, ReportingClient.Report());
        var silent = await _reporting.ListedUnitAsync(Year, key: false);

        var first = await DrawAsync(new { ratio = 0.5m, seed = 42 });
        var again = await DrawAsync(new { ratio = 0.5m, seed = 42 });
        var unseeded = await DrawAsync(new { ratio = 0.5m });

        Assert.Equal(3, Units(first).Count);
        Assert.All(Units(first), u => Assert.Contains(u, general));
        Assert.DoesNotContain(key, Units(first));
        Assert.DoesNotContain(silent, Units(unseeded));
        Assert.Equal(Units(first), Units(again));
        Assert.Equal(6, first.GetProperty("reported").GetInt32());
        var recorded = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/reports/{Year}/samples/{unseeded.GetProperty("id").GetString()}", Ct);
        Assert.Equal(unseeded.GetProperty("seed").GetInt64(), recorded.GetProperty("seed").GetInt64());
        var redrawn = await DrawAsync(new { ratio = 0.5m, seed = unseeded.GetProperty("seed").GetInt64() });
        Assert.Equal(Units(unseeded), Units(redrawn));
    }

    [Fact]
    public async Task ADistrictBureau_SeesOnlyItsOwnUnitsInASample()
    {
        await _reporting.SetFactorsAsync(DistrictYear);
        var chaoyang = await _reporting.ListedUnitAsync(DistrictYear, key: false, district: "朝阳区");
        var haidian = await _reporting.ListedUnitAsync(DistrictYear, key: false, district: "海淀区");
        await _reporting.SubmitAsync(chaoyang, DistrictYear, ReportingClient.Report());
        await _reporting.SubmitAsync(haidian, DistrictYear, ReportingClient.Report());
        var sample = await DrawAsync(new { ratio = 1m, seed = 7 }, DistrictYear);
        var path = $"/api/reports/{DistrictYear}/samples/{sample.GetProperty("id").GetString()}";

        var haidianView = Units(await app.Client("district", "海淀区").GetFromJsonAsync<JsonElement>(path, Ct));
        var regulatorView = Units(await _reporting.Regulator.GetFromJsonAsync<JsonElement>(path, Ct));

        Assert.Contains(haidian, haidianView);
        Assert.DoesNotContain(chaoyang, haidianView);
        Assert.Contains(chaoyang, regulatorView);
        Assert.Contains(haidian, regulatorView);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", haidian).GetAsync(path, Ct)).StatusCode);
    }

    [Fact]
    public async Task Sample_RatioOutOfRange_IsRefused()
    {
        var response = await _reporting.Regulator.PostAsJsonAsync($"/api/reports/{Year}/sample", new { ratio = 1.5m }, Ct);

        Assert.Contains("ratio", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
    }
}
