namespace BeijingEts.Functions.Tests.Calendar;

public sealed class CalendarFixture : EtsAppFixture;

public sealed class CalendarApiTests(CalendarFixture app) : IClassFixture<CalendarFixture>
{
    [Fact]
    public async Task AddWorkingDays_Counts7AcrossThe2026SpringFestivalAndItsMakeupSaturdays()
    {
        var answer = await app.Client("unit", "91110000600037341L").GetFromJsonAsync<JsonElement>("/api/calendar/add-working-days?from=2026-02-12&days=7", TestContext.Current.CancellationToken);

        // Feb 13 (Fri), 14 (make-up Sat), then the holiday 15-23, then 24, 25, 26, 27 and 28 (make-up Sat).
        Assert.Equal("2026-02-28", answer.GetProperty("date").GetString());
    }

    [Theory]
    [InlineData("2026-02-14", true, "make-up working day")]
    [InlineData("2026-02-16", false, "public holiday")]
    [InlineData("2026-03-07", false, "weekend")]
    [InlineData("2026-03-09", true, "weekday")]
    public async Task Day_SaysWhetherItIsAWorkingDayAndWhy(string date, bool working, string kind)
    {
        var day = await app.Client("district", "海淀区").GetFromJsonAsync<JsonElement>($"/api/calendar/days/{date}", TestContext.Current.CancellationToken);

        Assert.Equal(working, day.GetProperty("workingDay").GetBoolean());
        Assert.Equal(kind, day.GetProperty("kind").GetString());
    }

    [Fact]
    public async Task YearWithoutCalendar_IsAnErrorNamingTheYear()
    {
        var client = app.Client("regulator");
        var ct = TestContext.Current.CancellationToken;

        var crossing = await client.GetAsync("/api/calendar/add-working-days?from=2026-12-28&days=10", ct);
        var problem = await crossing.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("2027", problem.Detail);

        var missing = await client.GetAsync("/api/calendar/2029", ct);
        Assert.Contains("2029", (await missing.AssertProblemAsync(HttpStatusCode.NotFound)).Detail);
    }

    [Fact]
    public async Task LoadingAYear_MakesItsDeadlinesCountableAndIsAudited()
    {
        var client = app.Client("regulator");
        var ct = TestContext.Current.CancellationToken;
        var notice = new
        {
            source = "国务院办公厅关于2028年部分节假日安排的通知 (test)",
            holidays = new[] { "2028-01-01", "2028-01-02", "2028-01-03" },
            makeupWorkdays = new[] { "2028-01-08" },
        };

        var put = await client.PutAsJsonAsync("/api/calendar/2028", notice, ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        // 2028-01-01 is a Saturday: Jan 2 and 3 are holidays, Jan 4-7 work, Jan 8 (Sat) is the make-up day.
        var answer = await client.GetFromJsonAsync<JsonElement>("/api/calendar/add-working-days?from=2028-01-01&days=5", ct);
        Assert.Equal("2028-01-08", answer.GetProperty("date").GetString());
        var year = await client.GetFromJsonAsync<JsonElement>("/api/calendar/2028", ct);
        Assert.False(year.GetProperty("builtIn").GetBoolean());
        Assert.Equal(3, year.GetProperty("holidays").GetArrayLength());

        var second = await client.PutAsJsonAsync("/api/calendar/2028", new { notice.source, holidays = new[] { "2028-01-01", "2028-01-03" }, notice.makeupWorkdays }, ct);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);

        var trail = await client.GetFromJsonAsync<JsonElement>("/api/audit?subject=calendar/2028", ct);
        var entries = trail.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(2, entries.Count);
        Assert.Equal("calendar.year-loaded", entries[0].GetProperty("action").GetString());
        Assert.Equal("local:regulator", entries[0].GetProperty("actor").GetString());
        Assert.Equal(3, entries[0].GetProperty("before").GetProperty("holidays").GetArrayLength());
        Assert.Equal(2, entries[0].GetProperty("after").GetProperty("holidays").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, entries[1].GetProperty("before").ValueKind);
    }

    [Fact]
    public async Task InconsistentNotice_Gives400ListingEveryProblemAndStoresNothing()
    {
        var client = app.Client("regulator");
        var ct = TestContext.Current.CancellationToken;
        var notice = new { holidays = new[] { "2030-10-01", "2031-01-01" }, makeupWorkdays = new[] { "2030-10-01", "2030-10-09" } };

        var response = await client.PutAsJsonAsync("/api/calendar/2030", notice, ct);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("2031-01-01 is not in 2030", problem.Detail);
        Assert.Contains("2030-10-09 is a Wednesday", problem.Detail);
        Assert.Contains("both as a holiday and as a make-up working day", problem.Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/calendar/2030", ct)).StatusCode);
    }
}
