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

        // Registered after its deadline: a follow-up on the district's queue (Art. 8), which it records and signs off.
        var district = app.Client("district", "朝阳区");
        var queue = await district.GetFromJsonAsync<JsonElement>($"/api/districts/朝阳区/checks?kind=late-change&unit={uscc}", Ct);
        var check = Assert.Single(queue.GetProperty("checks").EnumerateArray());
        Assert.Contains("after its deadline of 2026-03-18", check.GetProperty("subject").GetString());
        var checkId = check.GetProperty("checkId").GetString();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await district.PostAsJsonAsync($"/api/checks/{checkId}/correction-requests", new { text = "x" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await district.PostAsJsonAsync($"/api/checks/{checkId}/findings", new { text = "The unit's registration staff changed; late by oversight." }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await district.PostAsJsonAsync($"/api/checks/{checkId}/sign-off", new { outcome = "issues-found" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task ChangeRegisteredToday_IsNotLate()
    {
        await _regulator.PutAsJsonAsync("/api/calendar/2027", new { holidays = new[] { "2027-01-01" }, makeupWorkdays = Array.Empty<string>() }, Ct);
        var uscc = await TestUnits.RegisterAsync(_regulator);

        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "rename", registeredOn = Today, newName = "今天改名" }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False((await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("late").GetBoolean());
        var queue = await _regulator.GetFromJsonAsync<JsonElement>($"/api/districts/朝阳区/checks?kind=late-change&unit={uscc}", Ct);
        Assert.Empty(queue.GetProperty("checks").EnumerateArray());
    }

    private async Task<string> RegisterMergerAsync(string uscc, string successor)
    {
        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "merger", registeredOn = "2026-06-01", successors = new[] { successor } }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        Assert.StartsWith("/api/changes/", response.Headers.Location!.OriginalString);
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task Merger_WaitsForTheDistrictAndTheRegulator_ThenHandsTheUnitToItsSuccessor_AllAudited()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var successor = await TestUnits.RegisterAsync(_regulator);

        var id = await RegisterMergerAsync(uscc, successor);

        var pending = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/changes", Ct);
        Assert.Equal("pending-district-confirmation", pending[0].GetProperty("state").GetString());
        Assert.Equal("active", (await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").PostAsync($"/api/changes/{id}/district-confirmation", null, Ct)).StatusCode);
        Assert.Equal("pending-regulator-confirmation", (await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>($"/api/changes/{id}", Ct)).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct)).StatusCode);

        var unit = await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct);
        Assert.Equal("succeeded", unit.GetProperty("status").GetString());
        Assert.Equal([successor], unit.GetProperty("successors").EnumerateArray().Select(s => s.GetString()));
        var entry = (await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}", Ct)).GetProperty("entries")[0];
        Assert.Equal("unit.merger", entry.GetProperty("action").GetString());
        Assert.Equal(successor, entry.GetProperty("after").GetProperty("change").GetProperty("successors")[0].GetString());
        var decisions = (await _regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=changes/{id}", Ct)).GetProperty("entries").EnumerateArray()
            .Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(["unit-change.confirmed", "unit-change.district-confirmed", "unit-change.registered"], decisions);
        Assert.Equal("confirmed", (await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/changes", Ct))[0].GetProperty("state").GetString());

        // A unit that has been succeeded cannot be named a successor: its obligations have passed on.
        var other = await TestUnits.RegisterAsync(_regulator);
        var intoSucceeded = await app.Client("unit", other).PostAsJsonAsync($"/api/units/{other}/changes", new { kind = "merger", registeredOn = "2026-06-01", successors = new[] { uscc } }, Ct);
        Assert.Contains("is succeeded", (await intoSucceeded.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task Merger_RejectedWithAReason_LeavesTheUnitActive_AndItMayRegisterAgain()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var successor = await TestUnits.RegisterAsync(_regulator);
        var id = await RegisterMergerAsync(uscc, successor);

        var second = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/changes", new { kind = "merger", registeredOn = "2026-06-01", successors = new[] { successor } }, Ct);
        Assert.Contains(id, (await second.AssertProblemAsync(HttpStatusCode.Conflict)).Detail);
        var noReason = await app.Client("district", "朝阳区").PostAsJsonAsync($"/api/changes/{id}/rejection", new { reason = " " }, Ct);
        Assert.Contains("reason is required", (await noReason.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        var byRegulatorTooEarly = await _regulator.PostAsJsonAsync($"/api/changes/{id}/rejection", new { reason = "no" }, Ct);
        await byRegulatorTooEarly.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").PostAsync($"/api/changes/{id}/district-confirmation", null, Ct)).StatusCode);

        var rejected = await _regulator.PostAsJsonAsync($"/api/changes/{id}/rejection", new { reason = "合并登记材料不全" }, Ct);

        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var change = await rejected.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("rejected", change.GetProperty("state").GetString());
        Assert.Equal("合并登记材料不全", change.GetProperty("rejectionReason").GetString());
        await (await _regulator.PostAsync($"/api/changes/{id}/confirmation", null, Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal("active", (await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}", Ct)).GetProperty("status").GetString());
        await RegisterMergerAsync(uscc, successor);
    }

    [Fact]
    public async Task AChange_IsReadByTheRegulatorItsDistrictAndTheUnit_Only()
    {
        var uscc = await TestUnits.RegisterAsync(_regulator);
        var id = await RegisterMergerAsync(uscc, await TestUnits.RegisterAsync(_regulator));

        Assert.Equal(HttpStatusCode.OK, (await app.Client("unit", uscc).GetAsync($"/api/changes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/changes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _regulator.GetAsync($"/api/changes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "海淀区").GetAsync($"/api/changes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", TestUnits.NewUscc()).GetAsync($"/api/changes/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _regulator.GetAsync($"/api/changes/open-{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _regulator.PostAsync("/api/changes/nope/confirmation", null, Ct)).StatusCode);
    }

    [Theory]
    [InlineData("{\"kind\": \"rename\", \"registeredOn\": \"2026-06-01\"}", "newName is required")]
    [InlineData("{\"kind\": \"split\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"SUCCESSOR\"]}", "at least 2 successor")]
    [InlineData("{\"kind\": \"merger\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"911100006000373410\"]}", "check character")]
    [InlineData("{\"kind\": \"rename\", \"registeredOn\": \"2099-01-01\", \"newName\": \"x\"}", "in the future")]
    [InlineData("{\"kind\": \"renaming\", \"registeredOn\": \"2026-06-01\", \"newName\": \"x\"}", "one of rename, merger, split")]
    [InlineData("{\"kind\": \"merger\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"SUCCESSOR\"], \"shares\": [1, 2]}", "one per successor")]
    [InlineData("{\"kind\": \"merger\", \"registeredOn\": \"2026-06-01\", \"successors\": [\"SUCCESSOR\"], \"shares\": [0]}", "weights from 1")]
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
        Assert.Equal(0, (await _regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/changes", Ct)).GetArrayLength());
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
