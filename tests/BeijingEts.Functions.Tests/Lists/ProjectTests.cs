using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Lists;

public sealed class ProjectFixture : EtsAppFixture;

/// <summary>Art. 10 para 2: carbon assessments of new and expanded projects, reviewed by the regulator, feeding classification and new-entrant allocation.</summary>
public sealed class ProjectTests(ProjectFixture app) : IClassFixture<ProjectFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static int ThisYear => ReportingClient.CurrentYear;
    private HttpClient Regulator => _reporting.Regulator;

    private static object Project(string owner, long boilerT = 24_000, decimal energy = 9_000m, string name = "2# 水泥熟料生产线") => new
    {
        owner, name, kind = "new", district = "朝阳区", industry = "cement", expectedStart = $"{ThisYear}-01-10",
        expectedEmissions = new[] { new { source = "kiln", emissionsT = boilerT }, new { source = "boiler", emissionsT = 6_000L } },
        energyUseTce = energy, benchmark = new { name = "clinker CO2 intensity", value = 0.86m, projectValue = 0.84m, unit = "t CO2/t clinker" },
        mitigation = new[] { "waste heat recovery", "alternative fuels 15%" },
    };

    private async Task<string> FiledAsync(HttpClient client, object project)
    {
        var response = await client.PostAsJsonAsync("/api/projects", project, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    private Task<HttpResponseMessage> OpinionAsync(string id, string opinion) =>
        Regulator.PostAsJsonAsync($"/api/projects/{id}/opinion", new { opinion, text = "Meets the sector benchmark; waste heat recovery is a condition of operation." }, Ct);

    [Fact]
    public async Task ANewOwnersProject_InOperation_ListsItByItsExpectedEmissions()
    {
        var owner = await TestUnits.RegisterAsync(Regulator);
        var id = await FiledAsync(Regulator, Project(owner));
        Assert.Equal(HttpStatusCode.OK, (await OpinionAsync(id, "approved")).StatusCode);
        var started = await app.Client("unit", owner).PostAsJsonAsync($"/api/projects/{id}/operation", new { startedOn = $"{ThisYear}-01-15" }, Ct);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("in-operation", (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());

        // No statistics of its own yet: the project's 30,000 t and 9,000 tce a year make it a key unit of the year.
        Assert.True((await Regulator.PostAsync($"/api/lists/{ThisYear}/publish", null, Ct)).IsSuccessStatusCode);
        var list = await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{ThisYear}", Ct);
        Assert.Equal("key", list.GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("uscc").GetString() == owner).GetProperty("category").GetString());
    }

    [Fact]
    public async Task AKeyUnitsExpansion_InOperation_FilesItsNewEntrantAllocation_ForTheRegulatorToDecide()
    {
        var owner = await _reporting.ListedUnitAsync(ThisYear);
        if (!(await Regulator.GetAsync($"/api/allocation/{ThisYear}/plan", Ct)).IsSuccessStatusCode)
        {
            await app.ApproveAsync(await Regulator.PutAsJsonAsync($"/api/allocation/{ThisYear}/plan", new
            {
                cap = 10_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
                methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { ThisYear - 2, ThisYear - 1 }, controlFactor = 1.0m } },
            }, Ct));
        }
        var id = await FiledAsync(app.Client("unit", owner), Project(owner));
        Assert.Equal(HttpStatusCode.OK, (await OpinionAsync(id, "approved-with-conditions")).StatusCode);
        var started = await app.Client("unit", owner).PostAsJsonAsync($"/api/projects/{id}/operation", new { startedOn = $"{ThisYear}-07-01" }, Ct);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);

        var adjustment = (await started.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("newEntrantAdjustment").GetString();
        var review = await Regulator.GetFromJsonAsync<JsonElement>($"/api/adjustments/{adjustment}", Ct);
        var application = review.GetProperty("application");
        // Six of twelve months of its expected 30,000 t.
        Assert.Equal(("new-entrant", 15_000L, "submitted"), (application.GetProperty("reason").GetString(), application.GetProperty("requestedT").GetInt64(),
            application.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task BadAssessments_AndOtherParties_AreRefused_AndAProjectRunsOnlyOnAnOpinionThatApprovesIt()
    {
        var owner = await TestUnits.RegisterAsync(Regulator);
        var other = await TestUnits.RegisterAsync(Regulator, district: "海淀区");

        var bad = await Regulator.PostAsJsonAsync("/api/projects", new
        {
            owner, name = "x", kind = "rebuild", district = "火星区", industry = "cement", expectedStart = $"{ThisYear}-01-10",
            expectedEmissions = Array.Empty<object>(), energyUseTce = -1, benchmark = new { name = "b", value = 0, projectValue = 1, unit = "t" }, mitigation = Array.Empty<string>(),
        }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var detail = await bad.Content.ReadAsStringAsync(Ct);
        foreach (var field in new[] { "kind", "district", "expectedEmissions", "energyUseTce", "benchmark", "mitigation" }) Assert.Contains(field, detail);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", other).PostAsJsonAsync("/api/projects", Project(owner), Ct)).StatusCode);
        Assert.Empty((await Regulator.GetFromJsonAsync<JsonElement>($"/api/projects?owner={owner}", Ct)).EnumerateArray());

        var id = await FiledAsync(app.Client("unit", owner), Project(owner));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.Client("unit", owner).PostAsJsonAsync($"/api/projects/{id}/operation", new { startedOn = $"{ThisYear}-02-01" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/projects/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("district", "海淀区").GetAsync($"/api/projects/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/projects/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", owner).PostAsJsonAsync($"/api/projects/{id}/opinion", new { opinion = "approved", text = "self" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OpinionAsync(id, "rejected")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await OpinionAsync(id, "approved")).StatusCode);
        var rejected = await app.Client("unit", owner).PostAsJsonAsync($"/api/projects/{id}/operation", new { startedOn = $"{ThisYear}-02-01" }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rejected.StatusCode);
        Assert.Contains("rejected", await rejected.Content.ReadAsStringAsync(Ct));
        Assert.Single((await app.Client("unit", owner).GetFromJsonAsync<JsonElement>("/api/projects", Ct)).EnumerateArray());
        Assert.Empty((await app.Client("unit", other).GetFromJsonAsync<JsonElement>("/api/projects", Ct)).EnumerateArray());
    }
}
