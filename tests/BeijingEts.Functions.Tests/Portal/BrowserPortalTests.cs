using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BeijingEts.Functions.Tests.Portal;

public sealed class BrowserPortalFixture : FastQueueFixture;

/// <summary>
/// The portal in headless Chromium against the real app and Azurite: each test signs in on the development page as a
/// person of one role, does what that person does there, and checks what the page shows against the API.
/// </summary>
public sealed class BrowserPortalTests(BrowserPortalFixture app, Browser browser) : IClassFixture<BrowserPortalFixture>, IClassFixture<Browser>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Tonnes(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    [Fact]
    public async Task AVerifier_UploadsTheReportAndTheStatementThroughThePage_AndSeesThemAccepted()
    {
        var verification = new VerificationClient(app);
        var report = await verification.ReportedKeyUnitAsync();
        var verifier = await verification.EligibleVerifierAsync();
        var engagement = (await verification.EngagementAsync(report.Uscc, verifier)).GetProperty("engagementId").GetString()!;
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("verifier", verifier);
        await page.OpenAsync("engagements");
        var row = page.Locator($"tr[data-engagement='{engagement}']");
        await Expect(row.Locator("[data-status='awaiting-upload']")).ToBeVisibleAsync();
        await row.Locator("input[data-file='report']").SetInputFilesAsync(new FilePayload { Name = "核查报告.pdf", MimeType = "application/pdf", Buffer = VerificationClient.Pdf() });
        await row.Locator("input[data-file='statement']").SetInputFilesAsync(new FilePayload { Name = "statement.json", MimeType = "application/json", Buffer = VerificationClient.Statement(report) });
        await row.Locator("form.upload button[type='submit']").ClickAsync();

        var accepted = page.Locator($"tr[data-engagement='{engagement}'] [data-status='accepted']");
        await Expect(accepted).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(accepted).ToContainTextAsync("accepted");
        await Expect(page.Locator($"tr[data-engagement='{engagement}'] td[data-label='核查排放量（吨）']")).ToHaveTextAsync(Tonnes(report.Total));
        Assert.Equal("accepted", (await verification.StatusAsync(report.Uscc)).GetProperty("status").GetString());
        await page.ScreenshotAsync("verifier");

        // English on request, and it stays chosen.
        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator($"tr[data-engagement='{engagement}'] [data-status='accepted']")).ToContainTextAsync("Accepted");
        await page.ReloadAsync();
        await Expect(page.Locator("section.page h1")).ToHaveTextAsync("Engagements");
        await Expect(page.Locator("html")).ToHaveAttributeAsync("lang", "en");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task AUnit_FillsItsReport_SeesTheTotalTheApiComputes_AsItTypes_AndSubmitsIt()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var uscc = await reporting.ListedUnitAsync(year);
        // What the API computes for these figures: the same calculation PUT runs, asked for without saving.
        var figures = new
        {
            year,
            fuels = new object[] { new { fuel = "natural-gas", quantity = 123.4m, unit = "10^4 Nm3" }, new { fuel = "raw-coal", quantity = 2345m, unit = "t" } },
            processes = new[] { new { source = "石灰石分解", emissionsT = 56.7m } },
            purchasedElectricityMWh = 3100m,
            purchasedHeatGJ = 800m,
            nonFossilElectricityMWh = 600m,
            nonFossilEvidence = "绿证 GEC-2025-0001..0600",
        };
        var calculated = await app.Client("unit", uscc).PostAsJsonAsync("/api/reports/calculate", figures, Ct);
        Assert.Equal(HttpStatusCode.OK, calculated.StatusCode);
        var expected = (await calculated.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("totalEmissionsT").GetInt64();
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("report");
        await page.Locator("#fuel-natural-gas").FillAsync("123.4");
        await page.Locator("#fuel-raw-coal").FillAsync("2345");
        await page.Locator("#process-source").FillAsync("石灰石分解");
        await page.Locator("#process-t").FillAsync("56.7");
        await page.Locator("#electricity").FillAsync("3100");
        await page.Locator("#non-fossil").FillAsync("600");
        await page.Locator("#non-fossil-evidence").FillAsync("绿证 GEC-2025-0001..0600");
        await page.Locator("#heat").FillAsync("800");
        await page.Locator("#activity-product").FillAsync("clinker-t");
        await page.Locator("#activity-quantity").FillAsync("10000");
        await page.Locator("#signed-by").FillAsync("张伟");
        await page.Locator("#signed-title").FillAsync("法定代表人");

        await Expect(page.Locator("#calc-total")).ToHaveTextAsync(Tonnes(expected));
        await Expect(page.Locator("#calculation tr")).ToHaveCountAsync(8); // two fuels, the process, direct, electricity, heat, indirect, total: line by line
        await page.Locator("#report-submit").ClickAsync();
        await Expect(page.Locator("#submitted")).ToHaveAttributeAsync("data-total", expected.ToString(CultureInfo.InvariantCulture));
        var saved = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{year}", Ct);
        Assert.Equal(expected, saved.GetProperty("totalEmissionsT").GetInt64());
        await page.ScreenshotAsync("unit");

        // On a phone the form and the calculation stack in one column, and nothing is wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(page.Locator("#calc-total")).ToHaveTextAsync(Tonnes(expected));
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the report page scrolls sideways on a phone");
        var form = await page.Locator("#report-form").BoundingBoxAsync();
        var calculation = await page.Locator("#calculation").BoundingBoxAsync();
        Assert.True(calculation!.Y > form!.Y + form.Height, "the calculation follows the form on a phone");
        await page.ScreenshotAsync("unit-phone");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task AUnit_ReadsItsAllocationNotice_FollowsIt_SeesWhenTheObjectionWindowCloses_AndObjects()
    {
        // The year the portal opens on when no cycle has begun: the last full year in Beijing, whose list other tests publish.
        var year = ReportingClient.CurrentYear - 1;
        var uscc = await TestUnits.RegisterAsync(app.Client("regulator"));
        var today = DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime);
        await app.Service<AllocationStore>().PutManyAsync([new UnitAllocation(year, uscc, "cement", "historical-total", new Tonnes(10_000), new Tonnes(7_000), today, null)], Ct);
        await app.Service<NoticeOutbox>().PublishAsync(NoticeTemplates.PreAllocation(uscc, year, new Tonnes(7_000)), Ct);
        var page = await browser.NewPageAsync(app.BaseAddress);

        // Issued today, its notice not yet received: the seven working days (Art. 15) have not begun.
        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("allocation");
        await Expect(page.Locator("[data-section='allocation'] dl")).ToContainTextAsync("7,000");
        await Expect(page.Locator("#allocation-issued-on")).ToHaveTextAsync(today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await Expect(page.Locator("#notice-received-on")).ToHaveTextAsync("通知尚未送达");
        await Expect(page.Locator("#objection-due-on")).ToHaveTextAsync("—");
        await Expect(page.Locator("[data-section='compliance'] [data-status]")).ToHaveAttributeAsync("data-status", "no-confirmed-emissions");

        // The notice, read in the inbox and followed to the page it is about.
        await page.OpenAsync("notices");
        var notice = page.Locator($"li[data-notice='allocation-pre-{year}']");
        await Expect(notice).ToHaveClassAsync("unread");
        await notice.Locator("button").ClickAsync();
        await Expect(page.Locator($"li[data-notice='allocation-pre-{year}']")).ToHaveClassAsync("read");
        await page.Locator($"li[data-notice='allocation-pre-{year}'] a").ClickAsync();
        await page.Locator("section.page[data-page='allocation']").WaitForAsync();
        var record = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/units/{uscc}", Ct);
        Assert.Equal(today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), record.GetProperty("noticeReceivedOn").GetString());
        await Expect(page.Locator("#notice-received-on")).ToHaveTextAsync(record.GetProperty("noticeReceivedOn").GetString()!);
        await Expect(page.Locator("#objection-due-on")).ToHaveTextAsync(record.GetProperty("objectionDueOn").GetString()!);

        await page.Locator("#objection-reason").FillAsync("基准年排放量有误：2019 年数据未计入新增生产线的停产月份");
        await page.Locator("#object").ClickAsync();
        await Expect(page.Locator("#toast")).ToHaveTextAsync("异议已提交");
        // Filed once: a second objection while the first is open is refused.
        var again = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/objections", new { reason = "again" }, Ct);
        await again.AssertProblemAsync(HttpStatusCode.Conflict);
        await page.ScreenshotAsync("unit-allocation");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task TheNoticesPage_ShowsARealNoticeAsText_FollowsItsLinkToTheHoldings_AndMarksItRead()
    {
        // The regulator suspends the unit's account (Art. 16): the unit is told, with the court's reference in the notice.
        var uscc = await TestUnits.RegisterAsync(app.Client("regulator"));
        var suspended = await app.Client("regulator").PostAsJsonAsync($"/api/accounts/{uscc}/suspensions",
            new { reason = "court-freeze", reference = "(2026)京01执123号<img src=x onerror=\"document.title='pwned'\">" }, Ct);
        Assert.Equal(HttpStatusCode.Created, suspended.StatusCode);
        var id = $"account-{uscc}-{(await suspended.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("suspensionId").GetString()}";
        var unit = app.Client("unit", uscc);
        var sent = (await unit.GetFromJsonAsync<JsonElement>("/api/notifications", Ct)).GetProperty("notifications").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("notices");
        var notice = page.Locator($"li[data-notice='{id}']");
        await Expect(notice.Locator("strong")).ToHaveTextAsync(sent.GetProperty("subjectZh").GetString()!);
        await Expect(notice.Locator(".notice-body")).ToHaveTextAsync(sent.GetProperty("bodyZh").GetString()!);
        await Expect(notice.Locator(".notice-body")).ToContainTextAsync("<img src=x onerror=");
        await Expect(page.Locator("#notices img")).ToHaveCountAsync(0);
        await Expect(notice).ToHaveClassAsync("unread");
        await page.ScreenshotAsync("unit-notices");
        await notice.Locator("button").ClickAsync();
        await Expect(page.Locator($"li[data-notice='{id}']")).ToHaveClassAsync("read");
        var read = (await unit.GetFromJsonAsync<JsonElement>("/api/notifications", Ct)).GetProperty("notifications").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);
        Assert.Equal(JsonValueKind.String, read.GetProperty("readAt").ValueKind);

        await page.Locator("#lang").ClickAsync();
        await Expect(page.Locator($"li[data-notice='{id}'] strong")).ToHaveTextAsync(sent.GetProperty("subjectEn").GetString()!);
        // The notice is about the account: its link leads to the unit's holdings.
        await page.Locator($"li[data-notice='{id}'] a").ClickAsync();
        await Expect(page.Locator("[data-section='holdings']")).ToBeVisibleAsync();
        Assert.NotEqual("pwned", await page.TitleAsync());
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task AKeyUnit_SubmitsAMonthsDataFromThePage_AndSeesItReportedWithTheTotalTheApiComputed()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1; // the year the portal opens on here: the latest with a published list
        await reporting.SetFactorsAsync(year);
        var uscc = await reporting.ListedUnitAsync(year);
        var month = $"{year}-03";
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("unit", uscc);
        await page.OpenAsync("monthly");
        await Expect(page.Locator("#year")).ToHaveValueAsync(year.ToString(CultureInfo.InvariantCulture));
        await Expect(page.Locator($"tr[data-month='{month}']")).ToContainTextAsync("缺报");
        await page.Locator("#monthly-month").SelectOptionAsync(month);
        await page.Locator("#monthly-fuel-natural-gas").FillAsync("120");
        await page.Locator("#monthly-electricity").FillAsync("75");
        await page.Locator("#monthly-materials").FillAsync("燃气发票 2025-03\n表计导出记录");
        await page.Locator("#monthly-submit").ClickAsync();

        await Expect(page.Locator($"tr[data-month='{month}']")).ToContainTextAsync("已报送");
        var saved = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/monthly/{month}", Ct);
        Assert.Equal(["燃气发票 2025-03", "表计导出记录"], saved.GetProperty("supportingMaterials").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(120m, saved.GetProperty("fuels")[0].GetProperty("quantity").GetDecimal());
        await Expect(page.Locator($"tr[data-month='{month}'] td[data-label='排放量（吨）']")).ToHaveTextAsync(Tonnes(saved.GetProperty("totalEmissionsT").GetInt64()));
        await Expect(page.Locator("#toast")).ToContainTextAsync(Tonnes(saved.GetProperty("totalEmissionsT").GetInt64()));
        await page.ScreenshotAsync("unit-monthly");
        page.AssertNoPageProblems();
    }

    [Fact]
    public async Task EveryPageOfEveryRole_OpensWithoutAnError_AndIsKeptAsAScreenshot()
    {
        // The last pass the issue asks for: the sign-in page and each page a role's menu offers, as a screenshot under the test results.
        var unit = await TestUnits.RegisterAsync(app.Client("regulator"));
        var verifier = await new VerificationClient(app).EligibleVerifierAsync();
        var signIn = await browser.NewPageAsync(app.BaseAddress);
        await signIn.GotoAsync("/");
        await signIn.Locator("#signin-submit").WaitForAsync();
        await signIn.ScreenshotAsync("page-signin");
        signIn.AssertNoPageProblems();

        (string Role, string? Scope, string[] Pages)[] roles =
        [
            ("regulator", null, ["dashboard", "market", "queues", "notices"]),
            ("district", "朝阳区", ["checks", "notices"]),
            ("verifier", verifier, ["engagements", "notices"]),
            ("unit", unit, ["report", "allocation", "monthly", "notices"]),
        ];
        foreach (var (role, scope, pages) in roles)
        {
            var page = await browser.NewPageAsync(app.BaseAddress);
            await page.SignInAsync(role, scope);
            Assert.Equal(pages, await page.Locator("#nav a").EvaluateAllAsync<string[]>("links => links.map(a => a.dataset.page)"));
            foreach (var id in pages)
            {
                await page.OpenAsync(id);
                await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                await Expect(page.Locator("section.page .error")).ToHaveCountAsync(0);
                await page.ScreenshotAsync($"page-{role}-{id}");
            }
            page.AssertNoPageProblems();
        }
    }

    [Fact]
    public async Task ADistrict_RecordsAFinding_AndSignsOffACheckFromItsQueue()
    {
        var reporting = new ReportingClient(app);
        var year = ReportingClient.CurrentYear - 1;
        await reporting.SetFactorsAsync(year);
        var general = await reporting.ListedUnitAsync(year, key: false, district: "海淀区");
        await reporting.SubmitAsync(general, year, ReportingClient.Report());
        var district = app.Client("district", "海淀区");
        var queue = await district.GetFromJsonAsync<JsonElement>($"/api/districts/{Uri.EscapeDataString("海淀区")}/checks?unit={general}", Ct);
        var checkId = Assert.Single(queue.GetProperty("checks").EnumerateArray()).GetProperty("checkId").GetString()!;
        var page = await browser.NewPageAsync(app.BaseAddress);

        await page.SignInAsync("district", "海淀区");
        await page.OpenAsync("checks");
        await page.Locator($"tr[data-check='{checkId}']").ClickAsync();
        await Expect(page.Locator("#check-state")).ToHaveAttributeAsync("data-status", "open");
        // What a person types reaches the page as text, never as markup.
        await page.Locator("#finding-text").FillAsync("燃料消耗量与购销凭证一致；热力计量表检定有效。<img src=x onerror=\"document.title='pwned'\">");
        await page.Locator("#finding-text").PressAsync("Tab");
        await page.Locator("form:has(#finding-text) button[type='submit']").ClickAsync();
        await Expect(page.Locator("ol.findings li")).ToContainTextAsync("燃料消耗量与购销凭证一致；热力计量表检定有效。<img src=x onerror=");
        await Expect(page.Locator("ol.findings img")).ToHaveCountAsync(0);
        await page.Locator("#signoff-outcome").SelectOptionAsync("passed");
        await page.Locator("#signoff-submit").ClickAsync();

        await Expect(page.Locator("#check-state")).ToHaveAttributeAsync("data-status", "closed");
        await Expect(page.Locator("#check-state")).ToContainTextAsync("已办结");
        Assert.NotEqual("pwned", await page.TitleAsync());
        var check = await district.GetFromJsonAsync<JsonElement>($"/api/checks/{checkId}", Ct);
        Assert.Equal(("closed", "passed"), (check.GetProperty("status").GetString(), check.GetProperty("outcome").GetString()));
        await page.ScreenshotAsync("district");
        page.AssertNoPageProblems();
    }
}
