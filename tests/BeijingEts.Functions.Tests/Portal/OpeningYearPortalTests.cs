using System.Globalization;
using BeijingEts.Functions.Tests.Reporting;
using static Microsoft.Playwright.Assertions;

namespace BeijingEts.Functions.Tests.Portal;

/// <summary>Its own storage: the years it publishes and schedules decide where every page of the portal opens.</summary>
public sealed class OpeningYearPortalFixture : FastQueueFixture;

/// <summary>Which year the portal opens on, as a newcomer finds it after ./scripts/demo.sh.</summary>
public sealed class OpeningYearPortalTests(OpeningYearPortalFixture app, Browser browser) : IClassFixture<OpeningYearPortalFixture>, IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Text(int year) => year.ToString(CultureInfo.InvariantCulture);

    private async Task ScheduleAsync(int year, DateTimeOffset listPublication)
    {
        var day = TimeSpan.FromDays(1);
        var schedule = new
        {
            listPublication, preAllocation = listPublication + day, reportsDue = listPublication + 2 * day, verificationDue = listPublication + 3 * day,
            confirmationDue = listPublication + 4 * day, verifiedAllocation = listPublication + 5 * day, surrenderDue = listPublication + 6 * day, close = listPublication + 7 * day,
        };
        Assert.Equal(HttpStatusCode.OK, (await app.Client("regulator").PutAsJsonAsync($"/api/cycles/{year}/schedule", schedule, Ct)).StatusCode);
    }

    [Fact]
    public async Task ThePortal_OpensOnTheLatestYearWhoseCycleHasBegun_NotOnTheNextYearsFreshList_AndTheYearFieldStillSwitches()
    {
        // As demo.sh leaves it: a year run through its cycle, and the next year's list published at the end with its cycle
        // scheduled later (or not at all); an older year run before.
        var last = ReportingClient.CurrentYear - 1; // the last full year in Beijing: where the portal looks back from
        var reporting = new ReportingClient(app);
        var unit = await reporting.ListedUnitAsync(last - 1);
        await reporting.ListedUnitAsync(last);
        await reporting.ListedUnitAsync(last - 2);
        await ScheduleAsync(last - 2, DateTimeOffset.UtcNow.AddDays(-400));
        await ScheduleAsync(last - 1, DateTimeOffset.UtcNow.AddDays(-30));
        await ScheduleAsync(last, DateTimeOffset.UtcNow.AddDays(30));

        var page = await browser.NewPageAsync(app.BaseAddress);
        await page.SignInAsync("unit", unit);
        await page.OpenAsync("allocation");
        await Expect(page.Locator("#year")).ToHaveValueAsync(Text(last - 1));
        await Expect(page.Locator("[data-section='allocation'] h2")).ToContainTextAsync(Text(last - 1));

        await page.Locator("#year").FillAsync(Text(last));
        await page.Locator("#year").DispatchEventAsync("change");
        await Expect(page.Locator("[data-section='allocation'] h2")).ToContainTextAsync(Text(last));
        await page.OpenAsync("report");
        await Expect(page.Locator("#year")).ToHaveValueAsync(Text(last)); // the year picked is kept across pages

        // Another person, another tab: the regulator's dashboard opens on the same year.
        var regulator = await browser.NewPageAsync(app.BaseAddress);
        await regulator.SignInAsync("regulator");
        await regulator.OpenAsync("dashboard");
        await Expect(regulator.Locator("[data-section='cycle'] h2")).ToContainTextAsync(Text(last - 1));
        page.AssertNoPageProblems();
        regulator.AssertNoPageProblems();
    }
}
