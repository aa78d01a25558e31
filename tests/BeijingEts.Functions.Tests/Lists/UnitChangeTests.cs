namespace BeijingEts.Functions.Tests.Lists;

public sealed class ChangesFixture : EtsAppFixture;

public sealed class UnitChangeTests(ChangesFixture app) : IClassFixture<ChangesFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Today => DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd");

    [Fact]
    public async Task Rename_RegisteredBeforeTheSpringFestival_Has20WorkingDaysThatSkipTheHolidayAndCountMakeupDays()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "rename", registeredOn = "2026-02-12", newName = "北京新名称有限公司" }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var change = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        // Feb 13, 14 (make-up), 24-28 (28 a make-up Saturday), then March 2-6, 9-13, 16-18: the 20th is March 18.
        Assert.Equal("2026-03-18", change.GetProperty("deadline").GetString());
        Assert.True(change.GetProperty("late").GetBoolean());
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("北京新名称有限公司", unit.GetProperty("name").GetString());
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}", Ct);
        Assert.Equal("unit.rename", trail.GetProperty("entries")[0].GetProperty("action").GetString());
        var changes = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/changes", Ct);
        Assert.Equal("2026-03-18", changes[0].GetProperty("deadline").GetString());
        Assert.Equal("北京新名称有限公司", changes[0].GetProperty("newName").GetString());
    }

    [Fact]
    public async Task ChangeRegisteredToday_IsNotLate()
    {
        await _regulator.PutAsJsonAsync("/api/calendar/2027", new { holidays = new[] { "2027-01-01" }, makeupWorkdays = Array.Empty<string>() }, Ct);
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "rename", registeredOn = Today, newName = "今天改名" }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("late").GetBoolean());
    }

    [Fact]
    public async Task Merger_HandsTheUnitToItsSuccessorAndIsAudited()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var successor = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "merger", registeredOn = "2026-06-01", successors = new[] { successor } }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("succeeded", unit.GetProperty("status").GetString());
        Assert.Equal([successor], unit.GetProperty("successors").EnumerateArray().Select(s => s.GetString()));
        var trail = await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}", Ct);
        var entry = trail.GetProperty("entries")[0];
        Assert.Equal("unit.merger", entry.GetProperty("action").GetString());
        Assert.Equal(successor, entry.GetProperty("after").GetProperty("change").GetProperty("successors")[0].GetString());
    }

    [Theory]
    [InlineData("{\"kind\": \"rename\", \"registeredOn\": \"2026-06-01\"}", "newName is required")]
    [InlineData("{\"kind\": \"split\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"SUCCESSOR\"]}", "at least 2 successor")]
    [InlineData("{\"kind\": \"merger\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"911100006000373410\"]}", "check character")]
    [InlineData("{\"kind\": \"rename\", \"registeredOn\": \"2099-01-01\", \"newName\": \"x\"}", "in the future")]
    [InlineData("{\"kind\": \"renaming\", \"registeredOn\": \"2026-06-01\", \"newName\": \"x\"}", "one of rename, merger, split")]
    public async Task BadChange_Gives400AndChangesNothing(string json, string expected)
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var successor = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsync($"/api/units/{uscc}/changes",
            new StringContent(json.Replace("SUCCESSOR", successor, StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json"), Ct);

        Assert.Contains(expected, (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("active", unit.GetProperty("status").GetString());
        Assert.StartsWith("测试单位", unit.GetProperty("name").GetString());
    }

    [Fact]
    public async Task UnregisteredSuccessor_Gives422()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "merger", registeredOn = "2026-06-01", successors = new[] { TestUnits.NewUscc() } }, Ct);

        Assert.Contains("not registered", (await response.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task AnotherUnit_CannotRegisterAChangeForIt()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", TestUnits.NewUscc()).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "rename", registeredOn = "2026-06-01", newName = "x" }, Ct);

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }
}
