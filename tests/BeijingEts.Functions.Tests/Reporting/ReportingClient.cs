using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Reporting;

/// <summary>Sets up what reporting needs: a year's factors and units on its published list.</summary>
public sealed class ReportingClient(EtsAppFixture app)
{
    public HttpClient Regulator { get; } = app.Client("regulator");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The year now in Beijing: its report cannot be made before it ends.</summary>
    public static int CurrentYear => DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).Year;

    public static object Factors => new
    {
        fuels = new Dictionary<string, object>
        {
            ["natural-gas"] = new { unit = "10^4 Nm3", ncvGJPerUnit = 389.31m, carbonContentTCPerGJ = 0.01532m, oxidationRate = 0.99m },
            ["raw-coal"] = new { unit = "t", ncvGJPerUnit = 20.908m, carbonContentTCPerGJ = 0.02618m, oxidationRate = 0.94m },
        },
        electricityTCO2PerMWh = 0.5703m,
        heatTCO2PerGJ = 0.11m,
    };

    public async Task SetFactorsAsync(int year) =>
        Assert.True((await Regulator.PutAsJsonAsync($"/api/reference/{year}/emission-factors", Factors, Ct)).IsSuccessStatusCode);

    /// <summary>Registers a unit with figures that make it a key unit (or a general reporting unit) of the year, and publishes the year's list.</summary>
    public async Task<string> ListedUnitAsync(int year, bool key = true, string industry = "cement", string district = "朝阳区")
    {
        var uscc = await TestUnits.RegisterAsync(Regulator, district: district, industry: industry);
        var put = await Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}",
            new { energyConsumptionTce = 5000, directEmissionsT = key ? 9000 : 3000, indirectEmissionsT = 0 }, Ct);
        Assert.True(put.IsSuccessStatusCode);
        Assert.True((await Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).IsSuccessStatusCode);
        return uscc;
    }

    public static object Report(decimal gas = 100, decimal coal = 1000, string coalUnit = "t", IEnumerable<object>? activity = null) => new
    {
        fuels = new object[] { new { fuel = "natural-gas", quantity = gas, unit = "10^4 Nm3" }, new { fuel = "raw-coal", quantity = coal, unit = coalUnit } },
        processes = new[] { new { source = "limestone calcination", emissionsT = 12.4m } },
        purchasedElectricityMWh = 2000m,
        purchasedHeatGJ = 1000m,
        nonFossilElectricityMWh = 500m,
        nonFossilEvidence = "green electricity certificates GEC-2025-0001..0500",
        activity = activity ?? [new { product = "clinker-t", quantity = 10_000m, unit = "t" }],
        declaration = new { signedBy = "张伟", title = "法定代表人" },
    };

    public async Task<JsonElement> SubmitAsync(string uscc, int year, object report)
    {
        var response = await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/reports/{year}", report, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    /// <summary>An adjusted confirmation: proposed by the regulator, approved by a second one.</summary>
    public async Task ConfirmAsync(string uscc, int year, long emissions) =>
        await app.ApproveAsync(await Regulator.PostAsJsonAsync($"/api/units/{uscc}/reports/{year}/confirmation",
            new { confirmedEmissions = emissions, basis = "adjusted", reason = "expert review of the report and monitoring plan" }, Ct));
}
